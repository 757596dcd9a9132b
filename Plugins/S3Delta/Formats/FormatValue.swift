/// A JSON-shaped value: what Delta log actions are made of (JSON commits and checkpoint rows alike),
/// and what statistics are reported as. Integers stay exact (Int64) rather than going through Double.
/// Parsed by `JSONParser`; encoded (into tool results) through Encodable.
public enum FormatValue: Sendable, Hashable, Encodable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([FormatValue])
    case object([String: FormatValue])

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        // JSON has no NaN/Infinity: render those as strings instead of failing the whole result.
        case .double(let d): if d.isFinite { try c.encode(d) } else { try c.encode(String(d)) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public subscript(key: String) -> FormatValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        case .string(let s): return Int64(s)
        default: return nil
        }
    }
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    public var objectValue: [String: FormatValue]? {
        if case .object(let o) = self { return o }
        return nil
    }
    public var arrayValue: [FormatValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
    public var isNull: Bool { self == .null }

    /// Compact one-line rendering for text output.
    public var rendered: String {
        switch self {
        case .null: "null"
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): s
        case .array(let a): "[" + a.map(\.rendered).joined(separator: ", ") + "]"
        case .object(let o): "{" + o.keys.sorted().map { "\($0): \(o[$0]!.rendered)" }.joined(separator: ", ") + "}"
        }
    }

    /// Parses one JSON document.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> FormatValue {
        try JSONParser.parse(bytes)
    }
}
