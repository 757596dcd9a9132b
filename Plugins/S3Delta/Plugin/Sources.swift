import MCPPluginSDK
import S3DeltaFormats

/// One entry of the configuration's `sources`.
struct SourceConfiguration: Decodable, Sendable {
    struct Local: Decodable, Sendable {
        var root: String
    }
    struct S3: Decodable, Sendable {
        var bucket: String
        var prefix: String?
        var region: String
        var endpoint: String?
        var addressing: String?
        var access_key_id_env: String?
        var secret_access_key_env: String?
        var session_token_env: String?
        var list_page_size: Int?
    }
    var name: String
    var local: Local?
    var s3: S3?
}

/// A configured source: its name, what `list_sources` may show about it, and its store.
struct Source: Sendable {
    enum Kind: Sendable {
        case local(root: String)
        case s3(bucket: String, prefix: String, region: String, endpoint: String, addressing: S3Addressing.Style)
    }
    var name: String
    var kind: Kind
    var store: any ListingStore
}

/// The tenant's sources, and the one place where a tool's `source` + `path` become a store and a
/// key (`ObjectLocator`).
struct Sources: ObjectLocator {
    let all: [Source]

    init(_ configurations: [SourceConfiguration], host: PluginHost, settings: Settings, environment: [String: String]) throws {
        var seen = Set<String>()
        var all: [Source] = []
        for c in configurations {
            guard seen.insert(c.name).inserted else { throw ToolError("sources: the name '\(c.name)' is used twice") }
            if let local = c.local, c.s3 == nil {
                guard local.root.hasPrefix("/") else { throw ToolError("sources '\(c.name)': local.root must be an absolute path") }
                all.append(Source(name: c.name, kind: .local(root: local.root), store: LocalStore(root: local.root)))
            } else if let s3 = c.s3, c.local == nil {
                let store = try S3Store(configuration: s3, sourceName: c.name, host: host, settings: settings, environment: environment)
                all.append(
                    Source(
                        name: c.name,
                        kind: .s3(
                            bucket: s3.bucket, prefix: store.prefix, region: s3.region, endpoint: store.addressing.endpoint,
                            addressing: store.addressing.style),
                        store: store))
            } else {
                throw ToolError("sources '\(c.name)': give exactly one of 'local' and 's3'")
            }
        }
        self.all = all
    }

    /// The named source, or the only one when `name` is nil.
    func source(_ name: String?) throws -> Source {
        if let name {
            guard let source = all.first(where: { $0.name == name }) else {
                throw ToolError.invalidArguments(
                    "argument 'source': no source named '\(name)' (configured: \(all.map(\.name).joined(separator: ", ")))")
            }
            return source
        }
        guard all.count == 1 else {
            throw ToolError.invalidArguments(
                "argument 'source' is required: this tenant has \(all.count) sources (\(all.map(\.name).joined(separator: ", ")))")
        }
        return all[0]
    }

    func locate(source name: String?, path: String) throws -> (store: any ObjectStore, key: String) {
        let source = try source(name)
        return (source.store, try Self.checkedKey(path, field: "path"))
    }

    /// A relative key without `.`/`..` segments, empty segments or NUL: what may name an object
    /// under a source. Refused here for S3 too — a store never sees a key that could name
    /// something outside its root or prefix (S3 does not resolve `..`, but proxies in front of it
    /// may, and a key like that is never what a client legitimately means).
    static func checkedKey(_ path: String, field: String, allowEmpty: Bool = false, allowTrailingSlash: Bool = false) throws -> String {
        if path.isEmpty {
            if allowEmpty { return path }
            throw ToolError.invalidArguments("argument '\(field)' is empty")
        }
        guard !path.hasPrefix("/") else {
            throw ToolError("access denied: argument '\(field)' is an absolute path ('\(path)'); paths are relative to the source")
        }
        guard !path.utf8.contains(0) else { throw ToolError.invalidArguments("argument '\(field)' contains a NUL byte") }
        var segments = path.split(separator: "/", omittingEmptySubsequences: false)
        if allowTrailingSlash, segments.count > 1, segments.last == "" { segments.removeLast() }
        for segment in segments {
            if segment == ".." || segment == "." {
                throw ToolError("access denied: argument '\(field)' ('\(path)') contains a '\(segment)' segment; paths cannot leave the source")
            }
            if segment.isEmpty { throw ToolError.invalidArguments("argument '\(field)' ('\(path)') contains an empty segment ('//')") }
        }
        return path
    }
}

/// A store that can also list one bounded page (ListObjectsV2's `start-after` + `max-keys`), so
/// `list_files` pages through a big bucket without listing all of it.
protocol ListingStore: ObjectStore {
    /// Up to `limit` objects under `prefix` whose key sorts after `after`, in key order, and
    /// whether more follow.
    func listPage(prefix: String, after: String?, limit: Int) async throws -> (objects: [ObjectInfo], more: Bool)
}
