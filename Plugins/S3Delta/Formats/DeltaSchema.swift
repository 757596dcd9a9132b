/// A Delta table schema, parsed from `metaData.schemaString` (Delta protocol, "Schema
/// Serialization Format"): primitive type names, and struct/array/map objects, nested at will.
public indirect enum DeltaType: Sendable, Equatable, CustomStringConvertible {
    case primitive(String)
    case structure([DeltaField])
    case array(element: DeltaType, containsNull: Bool)
    case map(key: DeltaType, value: DeltaType, valueContainsNull: Bool)

    /// Spark-SQL-like rendering: `long`, `struct<a: int, b: array<string>>`, `map<string, long>`.
    public var description: String {
        switch self {
        case .primitive(let name): name
        case .structure(let fields): "struct<" + fields.map { "\($0.name): \($0.type)" }.joined(separator: ", ") + ">"
        case .array(let element, _): "array<\(element)>"
        case .map(let key, let value, _): "map<\(key), \(value)>"
        }
    }

    init(_ json: FormatValue, at path: String) throws {
        if let name = json.stringValue {
            self = .primitive(name)
            return
        }
        guard let kind = json["type"]?.stringValue else { throw DeltaError("schemaString: field '\(path)' has no type") }
        switch kind {
        case "struct":
            self = .structure(try DeltaField.fields(json["fields"], at: path))
        case "array":
            guard let element = json["elementType"] else { throw DeltaError("schemaString: array '\(path)' has no elementType") }
            self = .array(element: try DeltaType(element, at: path + "[]"), containsNull: json["containsNull"]?.boolValue ?? true)
        case "map":
            guard let key = json["keyType"], let value = json["valueType"] else {
                throw DeltaError("schemaString: map '\(path)' lacks keyType/valueType")
            }
            self = .map(key: try DeltaType(key, at: path + ".key"), value: try DeltaType(value, at: path + ".value"),
                        valueContainsNull: json["valueContainsNull"]?.boolValue ?? true)
        default:
            throw DeltaError("schemaString: field '\(path)' has unknown type '\(kind)'")
        }
    }
}

public struct DeltaField: Sendable, Equatable {
    public var name: String
    public var type: DeltaType
    public var nullable: Bool
    /// The name used in data files and statistics under column mapping (`delta.columnMapping.physicalName`).
    public var physicalName: String?

    static func fields(_ json: FormatValue?, at path: String) throws -> [DeltaField] {
        guard let list = json?.arrayValue else { throw DeltaError("schemaString: struct '\(path)' has no fields array") }
        return try list.map { field in
            guard let name = field["name"]?.stringValue, let type = field["type"] else {
                throw DeltaError("schemaString: a field of '\(path.isEmpty ? "the table" : path)' lacks name or type")
            }
            let full = path.isEmpty ? name : path + "." + name
            return DeltaField(
                name: name, type: try DeltaType(type, at: full), nullable: field["nullable"]?.boolValue ?? true,
                physicalName: field["metadata"]?["delta.columnMapping.physicalName"]?.stringValue)
        }
    }
}

public struct DeltaSchema: Sendable, Equatable {
    public var fields: [DeltaField]

    public init(schemaString: String) throws {
        let json: FormatValue
        do { json = try FormatValue.parse(Array(schemaString.utf8)) } catch {
            throw DeltaError("metaData.schemaString is not valid JSON")
        }
        guard json["type"]?.stringValue == "struct" else { throw DeltaError("metaData.schemaString is not a struct type") }
        fields = try DeltaField.fields(json["fields"], at: "")
    }

    /// A column reachable through structs only — the columns Delta collects statistics for.
    public struct LeafColumn: Sendable {
        /// Logical path (`address.city`).
        public var path: [String]
        /// The path in statistics and data files (differs under column mapping).
        public var physicalPath: [String]
        public var type: DeltaType
        public var nullable: Bool
    }

    public var leafColumns: [LeafColumn] {
        var out: [LeafColumn] = []
        func walk(_ fields: [DeltaField], _ path: [String], _ physical: [String]) {
            for f in fields {
                let p = path + [f.name]
                let q = physical + [f.physicalName ?? f.name]
                if case .structure(let inner) = f.type {
                    walk(inner, p, q)
                } else {
                    out.append(LeafColumn(path: p, physicalPath: q, type: f.type, nullable: f.nullable))
                }
            }
        }
        walk(fields, [], [])
        return out
    }

    public func field(named name: String) -> DeltaField? { fields.first { $0.name == name } }
}
