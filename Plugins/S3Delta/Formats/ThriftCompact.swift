/// A reader for the Thrift compact protocol — the encoding of Parquet's footer (FileMetaData) and
/// page headers. It decodes into a generic tree (`ThriftStruct`) instead of generated classes:
/// the Parquet model (`ParquetMetadata.swift`) picks the field ids it knows, and anything a newer
/// writer adds is skipped for free.
public struct ThriftStruct: Sendable {
    public var fields: [Int16: ThriftValue] = [:]

    public subscript(id: Int16) -> ThriftValue? { fields[id] }

    func int(_ id: Int16) -> Int64? {
        if case .int(let v)? = fields[id] { return v }
        return nil
    }
    func bool(_ id: Int16) -> Bool? {
        if case .bool(let v)? = fields[id] { return v }
        return nil
    }
    func binary(_ id: Int16) -> [UInt8]? {
        if case .binary(let v)? = fields[id] { return v }
        return nil
    }
    func string(_ id: Int16) -> String? {
        binary(id).map { String(decoding: $0, as: UTF8.self) }
    }
    func structure(_ id: Int16) -> ThriftStruct? {
        if case .structure(let v)? = fields[id] { return v }
        return nil
    }
    func list(_ id: Int16) -> [ThriftValue]? {
        if case .list(let v)? = fields[id] { return v }
        return nil
    }
}

public enum ThriftValue: Sendable {
    case bool(Bool)
    /// i8, i16, i32 and i64 alike (the compact protocol zigzag-encodes all but i8).
    case int(Int64)
    case double(Double)
    case binary([UInt8])
    case structure(ThriftStruct)
    case list([ThriftValue])
    case map([(ThriftValue, ThriftValue)])

    var asStruct: ThriftStruct? {
        if case .structure(let s) = self { return s }
        return nil
    }
    var asInt: Int64? {
        if case .int(let v) = self { return v }
        return nil
    }
    var asString: String? {
        if case .binary(let b) = self { return String(decoding: b, as: UTF8.self) }
        return nil
    }
}

public struct ThriftError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Decodes compact-protocol values from `bytes`, starting at `position`; `position` afterwards
/// tells how many bytes a structure took (a page's data follows its header).
public struct ThriftCompactReader {
    let bytes: [UInt8]
    public private(set) var position: Int
    /// Nesting bound: a corrupt or hostile footer must not overflow the stack.
    static let maxDepth = 64
    /// Element-count bound per list/map, so a corrupt length cannot ask for gigabytes.
    static let maxElements = 50_000_000

    public init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    // Compact type ids.
    enum CompactType: UInt8 {
        case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
        case binary = 8, list = 9, set = 10, map = 11, structure = 12
    }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw ThriftError("truncated Thrift data at byte \(position)") }
        defer { position += 1 }
        return bytes[position]
    }

    /// Unsigned LEB128 varint (at most 10 bytes for 64 bits).
    public mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw ThriftError("varint longer than 10 bytes at byte \(position)") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A zigzag-encoded signed varint (i16, i32, i64).
    public mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func length() throws -> Int {
        let n = try varint()
        guard n <= UInt64(bytes.count - position) else {
            throw ThriftError("length \(n) at byte \(position) runs past the end of the data")
        }
        return Int(n)
    }

    /// Reads one struct (the caller is positioned at its first field header).
    public mutating func readStruct() throws -> ThriftStruct {
        try readStruct(depth: 0)
    }

    mutating func readStruct(depth: Int) throws -> ThriftStruct {
        guard depth < Self.maxDepth else { throw ThriftError("Thrift structures nested deeper than \(Self.maxDepth)") }
        var result = ThriftStruct()
        var lastID: Int16 = 0
        while true {
            let header = try byte()
            let typeBits = header & 0x0F
            guard let type = CompactType(rawValue: typeBits) else {
                throw ThriftError("unknown Thrift compact type \(typeBits) at byte \(position - 1)")
            }
            if type == .stop { return result }
            let delta = Int16(header >> 4)
            let id: Int16
            if delta != 0 {
                id = lastID &+ delta
            } else {
                let raw = try zigzag()
                guard let narrowed = Int16(exactly: raw) else { throw ThriftError("field id \(raw) out of range") }
                id = narrowed
            }
            lastID = id
            let value: ThriftValue
            switch type {
            // In a field header the boolean value is the type itself.
            case .boolTrue: value = .bool(true)
            case .boolFalse: value = .bool(false)
            default: value = try readValue(type, depth: depth)
            }
            result.fields[id] = value
        }
    }

    mutating func readValue(_ type: CompactType, depth: Int) throws -> ThriftValue {
        switch type {
        case .stop: throw ThriftError("unexpected stop type at byte \(position)")
        // Outside field headers (list elements) a bool is one byte: 1 true, anything else false.
        case .boolTrue, .boolFalse: return .bool(try byte() == 1)
        case .byte: return .int(Int64(Int8(bitPattern: try byte())))
        case .i16, .i32, .i64: return .int(try zigzag())
        case .double:
            guard bytes.count - position >= 8 else { throw ThriftError("truncated double at byte \(position)") }
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
            position += 8
            return .double(Double(bitPattern: bits))
        case .binary:
            let n = try length()
            defer { position += n }
            return .binary(Array(bytes[position..<position + n]))
        case .list, .set:
            let header = try byte()
            var count = Int(header >> 4)
            if count == 15 { count = Int(clamping: try varint()) }
            guard count <= Self.maxElements, count <= bytes.count - position + 1 else {
                throw ThriftError("list of \(count) elements at byte \(position) is larger than the data")
            }
            guard let elementType = CompactType(rawValue: header & 0x0F), elementType != .stop else {
                throw ThriftError("unknown list element type \(header & 0x0F) at byte \(position - 1)")
            }
            var items: [ThriftValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try readValue(elementType, depth: depth + 1)) }
            return .list(items)
        case .map:
            let count = Int(clamping: try varint())
            guard count > 0 else { return .map([]) }
            guard count <= Self.maxElements, count <= bytes.count - position else {
                throw ThriftError("map of \(count) entries at byte \(position) is larger than the data")
            }
            let types = try byte()
            guard let keyType = CompactType(rawValue: types >> 4), let valueType = CompactType(rawValue: types & 0x0F),
                keyType != .stop, valueType != .stop
            else { throw ThriftError("unknown map key/value types \(types) at byte \(position - 1)") }
            var entries: [(ThriftValue, ThriftValue)] = []
            for _ in 0..<count {
                entries.append((try readValue(keyType, depth: depth + 1), try readValue(valueType, depth: depth + 1)))
            }
            return .map(entries)
        case .structure:
            return .structure(try readStruct(depth: depth + 1))
        }
    }
}
