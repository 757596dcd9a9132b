/// The log actions replay needs (Delta protocol, "Actions"), read from a JSON commit line or a
/// checkpoint row — both arrive as `FormatValue` objects, so one decoder serves both.

public struct DeltaDeletionVector: Sendable, Hashable {
    public var storageType: String
    public var pathOrInlineDv: String
    public var offset: Int64?
    public var sizeInBytes: Int64?
    /// Rows the vector marks deleted.
    public var cardinality: Int64

    /// Identity of the vector within the table (protocol: storageType + pathOrInlineDv [+ "@" offset]).
    public var uniqueID: String {
        storageType + pathOrInlineDv + (offset.map { "@\($0)" } ?? "")
    }

    init?(_ v: FormatValue?) {
        guard let v, let type = v["storageType"]?.stringValue, let p = v["pathOrInlineDv"]?.stringValue else { return nil }
        storageType = type
        pathOrInlineDv = p
        offset = v["offset"]?.intValue
        sizeInBytes = v["sizeInBytes"]?.intValue
        cardinality = v["cardinality"]?.intValue ?? 0
    }
}

public struct DeltaAddFile: Sendable {
    public var path: String
    public var size: Int64
    public var partitionValues: [String: String?]
    public var modificationTime: Int64?
    public var dataChange: Bool
    /// The JSON statistics string, parsed only for files still active at the end of replay.
    public var stats: String?
    /// `stats_parsed` of a checkpoint written with writeStatsAsStruct (and maybe without JSON stats).
    public var statsParsed: FormatValue?
    public var deletionVector: DeltaDeletionVector?

    init(_ v: FormatValue) throws {
        guard let path = v["path"]?.stringValue else { throw DeltaError("an add action has no path") }
        self.path = path
        size = v["size"]?.intValue ?? 0
        var partitions: [String: String?] = [:]
        for (k, value) in v["partitionValues"]?.objectValue ?? [:] {
            partitions[k] = value.isNull ? String?.none : (value.stringValue ?? value.rendered)
        }
        partitionValues = partitions
        modificationTime = v["modificationTime"]?.intValue
        dataChange = v["dataChange"]?.boolValue ?? true
        stats = v["stats"]?.stringValue
        statsParsed = v["stats_parsed"].flatMap { $0.isNull ? nil : $0 }
        deletionVector = DeltaDeletionVector(v["deletionVector"])
    }
}

public struct DeltaMetadata: Sendable {
    public var id: String?
    public var name: String?
    public var description: String?
    public var formatProvider: String?
    public var schemaString: String
    public var partitionColumns: [String]
    public var configuration: [String: String]
    public var createdTime: Int64?

    init(_ v: FormatValue) throws {
        guard let schema = v["schemaString"]?.stringValue else { throw DeltaError("a metaData action has no schemaString") }
        id = v["id"]?.stringValue
        name = v["name"]?.stringValue
        description = v["description"]?.stringValue
        formatProvider = v["format"]?["provider"]?.stringValue
        schemaString = schema
        partitionColumns = (v["partitionColumns"]?.arrayValue ?? []).compactMap(\.stringValue)
        var configuration: [String: String] = [:]
        for (k, value) in v["configuration"]?.objectValue ?? [:] where !value.isNull {
            configuration[k] = value.stringValue ?? value.rendered
        }
        self.configuration = configuration
        createdTime = v["createdTime"]?.intValue
    }
}

public struct DeltaProtocol: Sendable, Equatable {
    public var minReaderVersion: Int
    public var minWriterVersion: Int
    public var readerFeatures: [String]?
    public var writerFeatures: [String]?

    init(_ v: FormatValue) throws {
        guard let r = v["minReaderVersion"]?.intValue, let w = v["minWriterVersion"]?.intValue else {
            throw DeltaError("a protocol action lacks minReaderVersion/minWriterVersion")
        }
        minReaderVersion = Int(r)
        minWriterVersion = Int(w)
        readerFeatures = v["readerFeatures"]?.arrayValue?.compactMap(\.stringValue)
        writerFeatures = v["writerFeatures"]?.arrayValue?.compactMap(\.stringValue)
    }
}

/// Percent-decodes a Delta file path (add/remove paths are URIs), so `a%20b` and `a b` match.
func percentDecoded(_ path: String) -> String {
    guard path.utf8.contains(UInt8(ascii: "%")) else { return path }
    var out: [UInt8] = []
    let bytes = Array(path.utf8)
    var i = 0
    func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }
    while i < bytes.count {
        if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
            out.append(h << 4 | l)
            i += 3
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}
