/// Parquet's FileMetaData (parquet-format `parquet.thrift`), the part of it a metadata tool and the
/// checkpoint reader need, decoded from the generic Thrift tree. Field ids follow parquet.thrift.

public enum ParquetPhysicalType: Int, Sendable, CustomStringConvertible {
    case boolean = 0, int32, int64, int96, float, double, byteArray, fixedLenByteArray

    public var description: String {
        switch self {
        case .boolean: "BOOLEAN"
        case .int32: "INT32"
        case .int64: "INT64"
        case .int96: "INT96"
        case .float: "FLOAT"
        case .double: "DOUBLE"
        case .byteArray: "BYTE_ARRAY"
        case .fixedLenByteArray: "FIXED_LEN_BYTE_ARRAY"
        }
    }
}

public enum ParquetRepetition: Int, Sendable, CustomStringConvertible {
    case required = 0, optional, repeated
    public var description: String {
        switch self {
        case .required: "REQUIRED"
        case .optional: "OPTIONAL"
        case .repeated: "REPEATED"
        }
    }
}

/// Codec names, indexed by parquet.thrift's CompressionCodec.
let parquetCodecNames = ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"]
/// Encoding names, indexed by parquet.thrift's Encoding (1 was GROUP_VAR_INT, never used).
let parquetEncodingNames = [
    "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
    "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT",
]
/// ConvertedType names (the legacy annotations), indexed by value.
let parquetConvertedTypeNames = [
    "UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE", "TIME_MILLIS", "TIME_MICROS",
    "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16",
    "INT_32", "INT_64", "JSON", "BSON", "INTERVAL",
]

func codecName(_ code: Int) -> String {
    parquetCodecNames.indices.contains(code) ? parquetCodecNames[code] : "CODEC_\(code)"
}
func encodingName(_ code: Int) -> String {
    parquetEncodingNames.indices.contains(code) ? parquetEncodingNames[code] : "ENCODING_\(code)"
}

/// The logical type of a column: the modern LogicalType union when present, else the legacy
/// ConvertedType. Both are reduced to what rendering values needs.
public enum ParquetLogicalType: Sendable, Equatable, CustomStringConvertible {
    case string, map, list, enumeration, json, bson, uuid, float16, unknown, variant
    case decimal(scale: Int, precision: Int)
    case date
    /// unit: "MILLIS", "MICROS" or "NANOS".
    case time(unit: String, adjustedToUTC: Bool)
    case timestamp(unit: String, adjustedToUTC: Bool)
    case integer(bitWidth: Int, signed: Bool)
    case interval
    case other(String)

    public var description: String {
        switch self {
        case .string: "STRING"
        case .map: "MAP"
        case .list: "LIST"
        case .enumeration: "ENUM"
        case .json: "JSON"
        case .bson: "BSON"
        case .uuid: "UUID"
        case .float16: "FLOAT16"
        case .unknown: "UNKNOWN"
        case .variant: "VARIANT"
        case .decimal(let s, let p): "DECIMAL(\(p),\(s))"
        case .date: "DATE"
        case .time(let u, let utc): "TIME(\(u),\(utc ? "UTC" : "local"))"
        case .timestamp(let u, let utc): "TIMESTAMP(\(u),\(utc ? "UTC" : "local"))"
        case .integer(let w, let s): "INT(\(w),\(s ? "signed" : "unsigned"))"
        case .interval: "INTERVAL"
        case .other(let name): name
        }
    }

    static func from(logical: ThriftStruct?, converted: Int64?, scale: Int64?, precision: Int64?) -> ParquetLogicalType? {
        if let logical, let (id, value) = logical.fields.first {
            let inner = value.asStruct
            func unit(_ s: ThriftStruct?) -> String {
                guard let u = s?.structure(2), let k = u.fields.keys.first else { return "?" }
                return k == 1 ? "MILLIS" : k == 2 ? "MICROS" : k == 3 ? "NANOS" : "?"
            }
            switch id {
            case 1: return .string
            case 2: return .map
            case 3: return .list
            case 4: return .enumeration
            case 5: return .decimal(scale: Int(inner?.int(1) ?? 0), precision: Int(inner?.int(2) ?? 0))
            case 6: return .date
            case 7: return .time(unit: unit(inner), adjustedToUTC: inner?.bool(1) ?? false)
            case 8: return .timestamp(unit: unit(inner), adjustedToUTC: inner?.bool(1) ?? false)
            case 10: return .integer(bitWidth: Int(inner?.int(1) ?? 0), signed: inner?.bool(2) ?? true)
            case 11: return .unknown
            case 12: return .json
            case 13: return .bson
            case 14: return .uuid
            case 15: return .float16
            case 16: return .variant
            case 17: return .other("GEOMETRY")
            case 18: return .other("GEOGRAPHY")
            default: return .other("LOGICAL_\(id)")
            }
        }
        guard let converted else { return nil }
        switch converted {
        case 0: return .string
        case 1, 2: return .map
        case 3: return .list
        case 4: return .enumeration
        case 5: return .decimal(scale: Int(scale ?? 0), precision: Int(precision ?? 0))
        case 6: return .date
        case 7: return .time(unit: "MILLIS", adjustedToUTC: true)
        case 8: return .time(unit: "MICROS", adjustedToUTC: true)
        case 9: return .timestamp(unit: "MILLIS", adjustedToUTC: true)
        case 10: return .timestamp(unit: "MICROS", adjustedToUTC: true)
        case 11: return .integer(bitWidth: 8, signed: false)
        case 12: return .integer(bitWidth: 16, signed: false)
        case 13: return .integer(bitWidth: 32, signed: false)
        case 14: return .integer(bitWidth: 64, signed: false)
        case 15: return .integer(bitWidth: 8, signed: true)
        case 16: return .integer(bitWidth: 16, signed: true)
        case 17: return .integer(bitWidth: 32, signed: true)
        case 18: return .integer(bitWidth: 64, signed: true)
        case 19: return .json
        case 20: return .bson
        case 21: return .interval
        default: return .other("CONVERTED_\(converted)")
        }
    }
}

/// One entry of the flattened schema list (depth-first, groups carry `numChildren`).
public struct ParquetSchemaElement: Sendable {
    public var name: String
    public var physicalType: ParquetPhysicalType?
    public var typeLength: Int?
    public var repetition: ParquetRepetition
    public var numChildren: Int
    public var logicalType: ParquetLogicalType?
    public var convertedType: Int?

    init(_ s: ThriftStruct, isRoot: Bool) throws {
        name = s.string(4) ?? ""
        if let t = s.int(1) {
            guard let type = ParquetPhysicalType(rawValue: Int(t)) else { throw ParquetError("unknown physical type \(t) for column '\(name)'") }
            physicalType = type
        }
        typeLength = s.int(2).map(Int.init)
        // The root has no repetition; a missing one elsewhere is read as REQUIRED, like parquet-mr.
        let rep = s.int(3) ?? 0
        guard let repetition = ParquetRepetition(rawValue: Int(rep)) else { throw ParquetError("unknown repetition \(rep) for '\(name)'") }
        self.repetition = isRoot ? .required : repetition
        numChildren = Int(s.int(5) ?? 0)
        guard numChildren >= 0 else { throw ParquetError("schema element '\(name)' has \(numChildren) children") }
        convertedType = s.int(6).map(Int.init)
        logicalType = ParquetLogicalType.from(logical: s.structure(10), converted: s.int(6), scale: s.int(7), precision: s.int(8))
    }
}

/// Column chunk statistics. `minValue`/`maxValue` are the well-defined fields (5, 6); `legacyMin`/
/// `legacyMax` are the deprecated fields (2, 1), whose order is only meaningful for signed types.
public struct ParquetStatistics: Sendable {
    public var minValue: [UInt8]?
    public var maxValue: [UInt8]?
    public var legacyMin: [UInt8]?
    public var legacyMax: [UInt8]?
    public var nullCount: Int64?
    public var distinctCount: Int64?

    init(_ s: ThriftStruct) {
        legacyMax = s.binary(1)
        legacyMin = s.binary(2)
        nullCount = s.int(3)
        distinctCount = s.int(4)
        maxValue = s.binary(5)
        minValue = s.binary(6)
    }
}

public struct ParquetColumnChunk: Sendable {
    public var path: [String]
    public var physicalType: ParquetPhysicalType
    public var encodings: [Int]
    public var codec: Int
    public var numValues: Int64
    public var totalUncompressedSize: Int64
    public var totalCompressedSize: Int64
    public var dataPageOffset: Int64
    public var dictionaryPageOffset: Int64?
    public var statistics: ParquetStatistics?
    /// Set when the chunk lives in another file (rare; this reader refuses to decode those).
    public var filePath: String?

    public var codecName: String { S3DeltaFormats.codecName(codec) }
    public var encodingNames: [String] { encodings.map(encodingName) }

    /// Where the chunk's first page starts: the dictionary page when there is one.
    public var startOffset: Int64 {
        if let d = dictionaryPageOffset, d > 0, d < dataPageOffset { return d }
        return dataPageOffset
    }

    init(_ chunk: ThriftStruct) throws {
        guard let m = chunk.structure(3) else { throw ParquetError("column chunk without metadata") }
        filePath = chunk.string(1)
        path = (m.list(3) ?? []).compactMap(\.asString)
        guard let t = m.int(1), let type = ParquetPhysicalType(rawValue: Int(t)) else {
            throw ParquetError("column chunk '\(path.joined(separator: "."))' has no valid type")
        }
        physicalType = type
        encodings = (m.list(2) ?? []).compactMap { $0.asInt.map(Int.init) }
        codec = Int(m.int(4) ?? 0)
        numValues = m.int(5) ?? 0
        totalUncompressedSize = m.int(6) ?? 0
        totalCompressedSize = m.int(7) ?? 0
        dataPageOffset = m.int(9) ?? 0
        dictionaryPageOffset = m.int(11)
        statistics = m.structure(12).map(ParquetStatistics.init)
    }
}

public struct ParquetRowGroup: Sendable {
    public var numRows: Int64
    public var totalByteSize: Int64
    public var totalCompressedSize: Int64?
    public var columns: [ParquetColumnChunk]

    init(_ s: ThriftStruct) throws {
        numRows = s.int(3) ?? 0
        totalByteSize = s.int(2) ?? 0
        totalCompressedSize = s.int(6)
        columns = try (s.list(1) ?? []).map { v in
            guard let c = v.asStruct else { throw ParquetError("row group column is not a struct") }
            return try ParquetColumnChunk(c)
        }
    }
}

public struct ParquetFileMetadata: Sendable {
    public var version: Int
    public var schema: [ParquetSchemaElement]
    public var numRows: Int64
    public var rowGroups: [ParquetRowGroup]
    public var keyValueMetadata: [(key: String, value: String?)]
    public var createdBy: String?

    public init(thrift s: ThriftStruct) throws {
        version = Int(s.int(1) ?? 0)
        let elements = s.list(2) ?? []
        guard !elements.isEmpty else { throw ParquetError("the footer has an empty schema") }
        schema = try elements.enumerated().map { i, v in
            guard let e = v.asStruct else { throw ParquetError("schema element \(i) is not a struct") }
            return try ParquetSchemaElement(e, isRoot: i == 0)
        }
        numRows = s.int(3) ?? 0
        rowGroups = try (s.list(4) ?? []).map { v in
            guard let g = v.asStruct else { throw ParquetError("row group is not a struct") }
            return try ParquetRowGroup(g)
        }
        keyValueMetadata = (s.list(5) ?? []).compactMap { v in
            guard let kv = v.asStruct, let key = kv.string(1) else { return nil }
            return (key, kv.string(2))
        }
        createdBy = s.string(6)
    }
}

public struct ParquetError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
