import MCPPluginSDK
import S3DeltaFormats

/// `list_sources` and `list_files`.
enum SourceTools: ToolFamily {
    static let readOnly = ToolAnnotations(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true)

    static let specs: [ToolSpec] = [
        ToolSpec(
            name: "list_sources", title: "List sources",
            description: "Lists the data sources of this tenant: local directories and S3 locations (bucket, prefix, region).",
            inputSchema: #"{"type":"object","properties":{},"additionalProperties":false}"#,
            outputSchema: """
                {"type":"object","required":["sources"],"properties":{
                   "sources":{"type":"array","items":{"type":"object","required":["name","kind"],"properties":{
                      "name":{"type":"string"},"kind":{"type":"string","enum":["local","s3"]},
                      "root":{"type":"string"},"bucket":{"type":"string"},"prefix":{"type":"string"},
                      "region":{"type":"string"},"endpoint":{"type":"string"},"addressing":{"type":"string","enum":["path","virtual"]}}}}}}
                """,
            annotations: readOnly),
        ToolSpec(
            name: "list_files", title: "List files",
            description:
                "Lists files of a source under a key prefix, optionally filtered by a glob (`*.csv` matches file names at any depth; `csv/*.csv` or `**/*.parquet` match whole paths). Paged: pass `cursor` from the previous answer.",
            inputSchema: """
                {"type":"object","additionalProperties":false,"properties":{
                   "source":{"type":"string","description":"Source name (optional when the tenant has one source)"},
                   "prefix":{"type":"string","description":"Key prefix relative to the source, e.g. 'sales/2024/' (default: everything)"},
                   "glob":{"type":"string","minLength":1,"description":"Shell pattern: * ? [a-z] and ** (whole segment)"},
                   "cursor":{"type":"string","description":"next_cursor of the previous page"},
                   "limit":{"type":"integer","minimum":1,"maximum":1000,"default":100}}}
                """,
            outputSchema: """
                {"type":"object","required":["source","files","count","next_cursor"],"properties":{
                   "source":{"type":"string"},"prefix":{"type":"string"},"glob":{"type":["string","null"]},
                   "files":{"type":"array","items":{"type":"object","required":["path","size"],"properties":{
                      "path":{"type":"string"},"size":{"type":"integer"},"last_modified":{"type":["string","null"]},
                      "etag":{"type":["string","null"]}}}},
                   "count":{"type":"integer"},"scanned":{"type":"integer"},
                   "next_cursor":{"type":["string","null"],"description":"null when this is the last page"}}}
                """,
            annotations: readOnly),
    ]

    struct SourceEntry: Encodable {
        var name: String
        var kind: String
        var root: String?
        var bucket: String?
        var prefix: String?
        var region: String?
        var endpoint: String?
        var addressing: String?
    }
    struct SourcesResult: Encodable {
        var sources: [SourceEntry]
    }

    struct ListInput: Decodable {
        var source: String?
        var prefix: String?
        var glob: String?
        var cursor: String?
        var limit: Int?
    }
    struct FileEntry: Encodable {
        var path: String
        var size: Int
        var last_modified: String?
        var etag: String?
    }
    struct ListResult: Encodable {
        var source: String
        var prefix: String
        var glob: String?
        var files: [FileEntry]
        var count: Int
        var scanned: Int
        var next_cursor: String?

        enum CodingKeys: String, CodingKey { case source, prefix, glob, files, count, scanned, next_cursor }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(source, forKey: .source)
            try c.encode(prefix, forKey: .prefix)
            try c.encode(glob, forKey: .glob)
            try c.encode(files, forKey: .files)
            try c.encode(count, forKey: .count)
            try c.encode(scanned, forKey: .scanned)
            try c.encode(next_cursor, forKey: .next_cursor)  // null on the last page, explicitly
        }
    }

    /// With a glob, a page may need to look at many keys to find `limit` matches; past this many
    /// it answers with what it found and a cursor, so one call stays bounded.
    static let maxScannedPerCall = 20_000

    static func call(_ tool: String, arguments: ToolArguments, locator: any ObjectLocator, context: ToolContext) async throws -> ToolResult {
        guard let sources = locator as? Sources else { throw ToolError("list tools need the plugin's sources") }
        switch tool {
        case "list_sources":
            let entries = sources.all.map { source -> SourceEntry in
                switch source.kind {
                case .local(let root):
                    return SourceEntry(name: source.name, kind: "local", root: root)
                case .s3(let bucket, let prefix, let region, let endpoint, let addressing):
                    return SourceEntry(
                        name: source.name, kind: "s3", bucket: bucket, prefix: prefix, region: region, endpoint: endpoint,
                        addressing: addressing.rawValue)
                }
            }
            let text = entries.map { e in
                e.kind == "local"
                    ? "\(e.name): local \(e.root ?? "")"
                    : "\(e.name): s3://\(e.bucket ?? "")/\(e.prefix ?? "") (\(e.region ?? ""), \(e.endpoint ?? ""), \(e.addressing ?? "")-style)"
            }.joined(separator: "\n")
            return .structured(SourcesResult(sources: entries), text: text.isEmpty ? "no sources" : text)
        case "list_files":
            return try await listFiles(try arguments.decode(ListInput.self), sources: sources)
        default:
            throw ToolError.unknownTool(tool)
        }
    }

    static func listFiles(_ input: ListInput, sources: Sources) async throws -> ToolResult {
        let source = try sources.source(input.source)
        let prefix = try Sources.checkedKey(input.prefix ?? "", field: "prefix", allowEmpty: true, allowTrailingSlash: true)
        let limit = input.limit ?? 100
        guard (1...1000).contains(limit) else { throw ToolError.invalidArguments("argument 'limit' must be 1...1000") }
        let glob: Glob?
        do { glob = try input.glob.map(Glob.init) } catch let error as Glob.GlobError { throw ToolError.invalidArguments(error.message) }
        if let cursor = input.cursor, !cursor.hasPrefix(prefix) {
            throw ToolError.invalidArguments("argument 'cursor' does not belong to prefix '\(prefix)' (pass the next_cursor of the previous answer)")
        }
        var files: [FileEntry] = []
        var scanned = 0
        var after = input.cursor
        var more = true
        var lastScanned: String?
        while files.count < limit && more && scanned < maxScannedPerCall {
            let want = glob == nil ? limit - files.count : min(1000, maxScannedPerCall - scanned)
            let page = try await source.store.listPage(prefix: prefix, after: after, limit: want)
            more = page.more
            for object in page.objects {
                scanned += 1
                lastScanned = object.key
                guard glob?.matches(object.key) ?? true else { continue }
                files.append(
                    FileEntry(
                        path: object.key, size: object.size,
                        last_modified: object.lastModifiedMilliseconds.map { S3Dates.iso8601(milliseconds: $0) }, etag: object.etag))
                if files.count == limit {
                    // Keys after this one on the same page are seen again next time.
                    more = more || object.key != page.objects.last?.key
                    break
                }
            }
            after = lastScanned
            if page.objects.isEmpty { break }
        }
        let next = more ? lastScanned : nil
        let result = ListResult(
            source: source.name, prefix: prefix, glob: input.glob, files: files, count: files.count, scanned: scanned, next_cursor: next)
        var lines = files.prefix(200).map { f in "\(f.path)  \(f.size) B\(f.last_modified.map { "  \($0)" } ?? "")" }
        if files.count > 200 { lines.append("… \(files.count - 200) more") }
        if files.isEmpty { lines.append("no files under '\(prefix)'\(input.glob.map { " matching \($0)" } ?? "")") }
        if let next { lines.append("more: pass cursor \"\(next)\"") }
        return .structured(result, text: lines.joined(separator: "\n"))
    }
}
