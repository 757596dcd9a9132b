import MCPPluginSDK
import S3DeltaFormats

/// `get_delta_table_metadata` and `get_delta_history`: log replay (checkpoint + later commits)
/// of a Delta table under a source, with optional time travel to a version.
enum DeltaTools: ToolFamily {
    static let readOnly = ToolAnnotations(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true)
    static let defaultHistoryLimit = 20

    static let tableArguments = """
        "source":{"type":"string","description":"Source name (optional when the tenant has one source)"},
        "path":{"type":"string","description":"Table root relative to the source (the directory holding _delta_log/); empty for the source root"},
        "version":{"type":"integer","minimum":0,"description":"Time travel: describe the table as of this version (default: latest)"}
        """

    static let specs: [ToolSpec] = [
        ToolSpec(
            name: "get_delta_table_metadata", title: "Delta table metadata",
            description:
                "Describes a Delta Lake table at its latest (or a given) version by replaying its log: protocol, schema, partition columns, table properties, number and total size of active files, row count and per-column min/max/null counts aggregated from file statistics.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","additionalProperties":false,"required":["path"],"properties":{\(tableArguments)}}
                """),
            outputSchema: """
                {"type":"object","required":["path","version","latest_version","protocol","schema","partition_columns","configuration","num_files","total_size","num_records","columns"],
                 "properties":{
                   "source":{"type":["string","null"]},"path":{"type":"string"},
                   "version":{"type":"integer"},"latest_version":{"type":"integer"},
                   "timestamp":{"type":["string","null"],"description":"commit time of this version, ISO 8601 UTC"},
                   "timestamp_ms":{"type":["integer","null"]},
                   "id":{"type":["string","null"]},"name":{"type":["string","null"]},"description":{"type":["string","null"]},
                   "format":{"type":["string","null"]},"created_time":{"type":["string","null"]},
                   "protocol":{"type":"object","required":["min_reader_version","min_writer_version"],"properties":{
                      "min_reader_version":{"type":"integer"},"min_writer_version":{"type":"integer"},
                      "reader_features":{"type":["array","null"],"items":{"type":"string"}},
                      "writer_features":{"type":["array","null"],"items":{"type":"string"}}}},
                   "schema":{"type":"array","items":{"type":"object","required":["name","type","nullable"],"properties":{
                      "name":{"type":"string"},"type":{"type":"string"},"nullable":{"type":"boolean"},
                      "physical_name":{"type":["string","null"]}}}},
                   "partition_columns":{"type":"array","items":{"type":"string"}},
                   "configuration":{"type":"object","additionalProperties":{"type":"string"}},
                   "column_mapping_mode":{"type":"string"},
                   "num_files":{"type":"integer"},"total_size":{"type":"integer"},
                   "num_records":{"type":["integer","null"],"description":"sum of numRecords minus deletion-vector rows; null when a file lacks statistics"},
                   "files_without_stats":{"type":"integer"},
                   "deletion_vector_rows":{"type":"integer"},"files_with_deletion_vectors":{"type":"integer"},
                   "columns":{"type":"array","items":{"type":"object","required":["name","type","partition"],"properties":{
                      "name":{"type":"string"},"type":{"type":"string"},"partition":{"type":"boolean"},
                      "min":{},"max":{},"null_count":{"type":["integer","null"]},
                      "files_with_stats":{"type":"integer"}}}},
                   "replay":{"type":"object","properties":{
                      "checkpoint_version":{"type":["integer","null"]},"commits_replayed":{"type":"integer"}}}}}
                """,
            annotations: readOnly),
        ToolSpec(
            name: "get_delta_history", title: "Delta table history",
            description:
                "Lists the commits of a Delta Lake table, newest first: version, timestamp, operation and its parameters. Commits removed by log cleanup are not available; the answer says which versions are.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","additionalProperties":false,"required":["path"],"properties":{\(tableArguments),
                   "limit":{"type":"integer","minimum":1,"maximum":1000,"default":20,"description":"How many commits to return"}}}
                """),
            outputSchema: """
                {"type":"object","required":["path","latest_version","commits","truncated"],"properties":{
                   "source":{"type":["string","null"]},"path":{"type":"string"},
                   "latest_version":{"type":"integer"},"earliest_available_version":{"type":["integer","null"]},
                   "truncated":{"type":"boolean","description":"older commits exist beyond the limit"},
                   "commits":{"type":"array","items":{"type":"object","required":["version","operation","operation_parameters"],"properties":{
                      "version":{"type":"integer"},"timestamp":{"type":["string","null"]},"timestamp_ms":{"type":["integer","null"]},
                      "timestamp_source":{"type":["string","null"],"enum":["inCommitTimestamp","commitInfo","file",null]},
                      "operation":{"type":["string","null"]},"operation_parameters":{"type":"object"},
                      "operation_metrics":{"type":["object","null"]},"engine_info":{"type":["string","null"]},
                      "is_blind_append":{"type":["boolean","null"]}}}}}}
                """,
            annotations: readOnly),
    ]

    struct Input: Decodable {
        var source: String?
        var path: String
        var version: Int64?
        var limit: Int?
    }

    static func call(_ tool: String, arguments: ToolArguments, locator: any ObjectLocator, context: ToolContext)
        async throws -> ToolResult
    {
        let input = try arguments.decode(Input.self)
        let log = try table(input, locator: locator)
        do {
            switch tool {
            case "get_delta_table_metadata":
                let snapshot = try await log.snapshot(version: input.version)
                let result = DeltaMetadataResult(snapshot, source: input.source, path: input.path)
                return .structured(result, text: result.rendered)
            case "get_delta_history":
                let history = try await log.history(limit: input.limit ?? defaultHistoryLimit, upTo: input.version)
                let result = DeltaHistoryResult(history, source: input.source, path: input.path)
                return .structured(result, text: result.rendered)
            default:
                throw ToolError.unknownTool(tool)
            }
        } catch let error as DeltaError {
            throw ToolError(error.description)
        } catch let error as ParquetError {
            throw ToolError(error.description)
        }
    }

    /// The table's log. The root may be the source itself ("" or "/"), which `locate` refuses as
    /// a path, so the source root is located through its `_delta_log` key instead.
    static func table(_ input: Input, locator: any ObjectLocator) throws -> DeltaLog {
        var path = input.path
        while path.hasSuffix("/") { path.removeLast() }
        if path.isEmpty {
            let (store, key) = try locator.locate(source: input.source, path: "_delta_log")
            return DeltaLog(store: store, tablePath: String(key.dropLast("_delta_log".count)))
        }
        let (store, key) = try locator.locate(source: input.source, path: path)
        return DeltaLog(store: store, tablePath: key)
    }
}

struct DeltaMetadataResult: Encodable {
    struct ProtocolVersions: Encodable {
        var min_reader_version: Int
        var min_writer_version: Int
        var reader_features: [String]?
        var writer_features: [String]?
    }
    struct Field: Encodable {
        var name: String
        var type: String
        var nullable: Bool
        var physical_name: String?
    }
    struct Column: Encodable {
        var name: String
        var type: String
        var partition: Bool
        var min: OrNull<FormatValue>
        var max: OrNull<FormatValue>
        var null_count: OrNull<Int64>
        var files_with_stats: Int
    }
    struct Replay: Encodable {
        var checkpoint_version: OrNull<Int64>
        var commits_replayed: Int
    }
    var source: String?
    var path: String
    var version: Int64
    var latest_version: Int64
    var timestamp: OrNull<String>
    var timestamp_ms: OrNull<Int64>
    var id: String?
    var name: String?
    var description: String?
    var format: String?
    var created_time: String?
    var `protocol`: ProtocolVersions
    var schema: [Field]
    var partition_columns: [String]
    var configuration: [String: String]
    var column_mapping_mode: String
    var num_files: Int
    var total_size: Int64
    var num_records: OrNull<Int64>
    var files_without_stats: Int
    var deletion_vector_rows: Int64
    var files_with_deletion_vectors: Int
    var columns: [Column]
    var replay: Replay

    init(_ s: DeltaSnapshot, source: String?, path: String) {
        let summary = s.summarize()
        self.source = source
        self.path = path
        version = s.version
        latest_version = s.latestVersion
        timestamp_ms = OrNull(s.timestamp)
        timestamp = OrNull(s.timestamp.map { isoTimestamp(milliseconds: $0) })
        id = s.metadata.id
        name = s.metadata.name
        description = s.metadata.description
        format = s.metadata.formatProvider
        created_time = s.metadata.createdTime.map { isoTimestamp(milliseconds: $0) }
        self.protocol = ProtocolVersions(
            min_reader_version: s.protocolAction.minReaderVersion, min_writer_version: s.protocolAction.minWriterVersion,
            reader_features: s.protocolAction.readerFeatures, writer_features: s.protocolAction.writerFeatures)
        schema = s.schema.fields.map { Field(name: $0.name, type: $0.type.description, nullable: $0.nullable, physical_name: $0.physicalName) }
        partition_columns = s.metadata.partitionColumns
        configuration = s.metadata.configuration
        column_mapping_mode = s.columnMappingMode
        num_files = summary.fileCount
        total_size = summary.totalSize
        num_records = OrNull(summary.rowCount)
        files_without_stats = summary.filesWithoutStats
        deletion_vector_rows = summary.deletedByDeletionVectors
        files_with_deletion_vectors = summary.filesWithDeletionVectors
        columns = summary.columns.map {
            Column(name: $0.name, type: $0.type, partition: $0.isPartition, min: OrNull($0.min), max: OrNull($0.max),
                   null_count: OrNull($0.nullCount), files_with_stats: $0.filesWithStats)
        }
        replay = Replay(checkpoint_version: OrNull(s.checkpointVersion), commits_replayed: s.commitsReplayed)
    }

    var rendered: String {
        var lines = [
            "Delta table \(path.isEmpty ? "/" : path) at version \(version) (latest \(latest_version))"
                + (timestamp.value.map { ", committed \($0)" } ?? ""),
            "  protocol: reader v\(self.protocol.min_reader_version), writer v\(self.protocol.min_writer_version)"
                + ((self.protocol.reader_features ?? []).isEmpty ? "" : ", reader features: \(self.protocol.reader_features!.joined(separator: ", "))"),
            "  files: \(num_files), \(total_size) bytes; rows: \(num_records.value.map(String.init) ?? "unknown (\(files_without_stats) files without statistics)")"
                + (deletion_vector_rows > 0 ? " (after \(deletion_vector_rows) rows deleted by deletion vectors)" : ""),
            "  partition columns: \(partition_columns.isEmpty ? "none" : partition_columns.joined(separator: ", "))",
        ]
        if !configuration.isEmpty {
            lines.append("  properties: " + configuration.keys.sorted().map { "\($0)=\(configuration[$0]!)" }.joined(separator: ", "))
        }
        lines.append("  schema:")
        for c in columns {
            var line = "    \(c.name) \(c.type)\(c.partition ? " (partition)" : "")"
            if let lo = c.min.value, let hi = c.max.value { line += " min=\(lo.clipped) max=\(hi.clipped)" }
            if let n = c.null_count.value { line += " nulls=\(n)" }
            lines.append(line)
        }
        // Columns the stats do not reach (arrays, maps) still belong in the schema listing.
        let listed = Set(columns.map { $0.name.split(separator: ".").first.map(String.init) ?? $0.name })
        for f in schema where !listed.contains(f.name) { lines.append("    \(f.name) \(f.type)") }
        return lines.joined(separator: "\n")
    }
}

struct DeltaHistoryResult: Encodable {
    struct Commit: Encodable {
        var version: Int64
        var timestamp: OrNull<String>
        var timestamp_ms: OrNull<Int64>
        var timestamp_source: OrNull<String>
        var operation: OrNull<String>
        var operation_parameters: [String: FormatValue]
        var operation_metrics: [String: FormatValue]?
        var engine_info: String?
        var is_blind_append: Bool?
    }
    var source: String?
    var path: String
    var latest_version: Int64
    var earliest_available_version: OrNull<Int64>
    var truncated: Bool
    var commits: [Commit]

    init(_ h: DeltaHistory, source: String?, path: String) {
        self.source = source
        self.path = path
        latest_version = h.latestVersion
        earliest_available_version = OrNull(h.earliestAvailableVersion)
        truncated = h.truncated
        commits = h.commits.map { c in
            Commit(
                version: c.version, timestamp: OrNull(c.timestamp.map { isoTimestamp(milliseconds: $0) }),
                timestamp_ms: OrNull(c.timestamp), timestamp_source: OrNull(c.timestampSource), operation: OrNull(c.operation), operation_parameters: c.operationParameters,
                operation_metrics: c.operationMetrics, engine_info: c.engineInfo, is_blind_append: c.isBlindAppend)
        }
    }

    var rendered: String {
        var lines = ["History of \(path.isEmpty ? "/" : path): latest version \(latest_version)"
            + (earliest_available_version.value.map { ", commits available from version \($0)" } ?? ", no commit files left")]
        for c in commits {
            let params = c.operation_parameters.keys.sorted().map { "\($0)=\(c.operation_parameters[$0]!.rendered)" }.joined(separator: ", ")
            lines.append("  v\(c.version) \(c.timestamp.value ?? "?") \(c.operation.value ?? "(no commitInfo)")" + (params.isEmpty ? "" : " [\(params)]"))
        }
        if truncated { lines.append("  … older commits omitted (raise limit)") }
        return lines.joined(separator: "\n")
    }
}

/// An optional that encodes as an explicit `null` (synthesized Encodable drops nil members), for
/// result fields whose absence would read as "not reported" rather than "unknown".
struct OrNull<Wrapped: Encodable>: Encodable {
    var value: Wrapped?
    init(_ value: Wrapped?) { self.value = value }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}
