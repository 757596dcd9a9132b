import MCPPluginSDK
import S3DeltaFormats

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Read-only tools over a tenant's data sources — local directories and S3 locations — for CSV
/// files, Parquet files and Delta tables.
///
/// Per-tenant configuration:
///   {"sources": [{"name": "lake", "local": {"root": "/data/lake"}},
///                {"name": "raw", "s3": {"bucket": "b", "prefix": "raw/", "region": "eu-west-1",
///                                        "endpoint": "http://minio:9000"?, "addressing": "path"?}}],
///    "csv_exact_max_bytes": 67108864, "max_preview_rows": 100, "timeout_ms": 15000}
/// S3 credentials come from the host's environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
/// AWS_SESSION_TOKEN, or per source the variables named by `access_key_id_env` /
/// `secret_access_key_env` / `session_token_env`), never from the configuration itself. Every
/// S3 request goes through the host's HTTP service, so the tenant's egress allow-list applies.
struct S3DeltaPlugin: MCPPlugin {
    struct Configuration: Decodable, Sendable {
        var sources: [SourceConfiguration]
        var csv_exact_max_bytes: Int?
        var max_preview_rows: Int?
        var timeout_ms: Int?
    }

    static let name = "s3delta"
    static let version = "1.0.0"
    static let configurationSchema: JSONSchemaLiteral = """
        {"type":"object","additionalProperties":false,"required":["sources"],
         "properties":{
           "sources":{"type":"array","minItems":1,"items":{
             "type":"object","additionalProperties":false,"required":["name"],
             "properties":{
               "name":{"type":"string","pattern":"^[A-Za-z0-9_.-]{1,64}$","description":"What tools call this source"},
               "local":{"type":"object","additionalProperties":false,"required":["root"],
                 "properties":{"root":{"type":"string","minLength":1,"description":"Directory; nothing outside it is readable"}}},
               "s3":{"type":"object","additionalProperties":false,"required":["bucket","region"],
                 "properties":{
                   "bucket":{"type":"string","pattern":"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"},
                   "prefix":{"type":"string","description":"Key prefix the source is confined to (a folder)"},
                   "region":{"type":"string","pattern":"^[a-z0-9-]{1,32}$"},
                   "endpoint":{"type":"string","description":"S3-compatible endpoint (default https://s3.<region>.amazonaws.com)"},
                   "addressing":{"type":"string","enum":["path","virtual"],
                     "description":"virtual-hosted-style (default for AWS) or path-style (default with an endpoint)"},
                   "access_key_id_env":{"type":"string","description":"Environment variable holding the access key id"},
                   "secret_access_key_env":{"type":"string","description":"Environment variable holding the secret key"},
                   "session_token_env":{"type":"string","description":"Environment variable holding a session token"},
                   "list_page_size":{"type":"integer","minimum":1,"maximum":1000,"description":"ListObjectsV2 max-keys (default 1000)"}}}},
             "oneOf":[{"required":["local"]},{"required":["s3"]}]}},
           "csv_exact_max_bytes":{"type":"integer","minimum":0,
             "description":"CSV files up to this size are counted exactly by streaming; larger ones are estimated (default 64 MiB)"},
           "max_preview_rows":{"type":"integer","minimum":1,"maximum":10000,"description":"Upper bound of preview_csv rows (default 100)"},
           "timeout_ms":{"type":"integer","minimum":100,"maximum":300000,"description":"Per S3 request (default 15000)"}}}
        """

    /// Every family's tools; calls are routed to the family that declared the tool.
    /// (Computed: metatypes of a non-Sendable protocol cannot be stored in a global.)
    static var families: [any ToolFamily.Type] { [SourceTools.self, CSVTools.self, ParquetTools.self, DeltaTools.self] }
    static let tools: [ToolSpec] = families.flatMap { $0.specs }
    /// CSV scans, Parquet decoding and `pread`s: off the host's event loops.
    static let performsBlockingWork = true
    private static func family(of tool: String) -> (any ToolFamily.Type)? {
        families.first { family in family.specs.contains { $0.name == tool } }
    }

    let sources: Sources
    let settings: Settings
    let host: PluginHost

    init(configuration c: Configuration, host: PluginHost) throws {
        self.host = host
        settings = Settings(
            csvExactMaxBytes: c.csv_exact_max_bytes ?? Settings.defaultCSVExactMaxBytes,
            maxPreviewRows: c.max_preview_rows ?? Settings.defaultMaxPreviewRows,
            requestTimeoutMilliseconds: c.timeout_ms ?? 15_000)
        sources = try Sources(c.sources, host: host, settings: settings, environment: ProcessInfo.processInfo.environment)
    }

    func call(_ tool: String, arguments: ToolArguments, context: ToolContext) async throws -> ToolResult {
        guard let family = Self.family(of: tool) else { throw ToolError.unknownTool(tool) }
        // The stores leave a margin of the call's deadline to report a slow backend themselves,
        // and the CSV tools read the tenant's limits: both travel with the task.
        let call = CallSettings(deadlineUnixMilliseconds: context.deadlineUnixMilliseconds, settings: settings)
        do {
            return try await CallSettings.$current.withValue(call) {
                try await family.call(tool, arguments: arguments, locator: sources, context: context)
            }
        } catch let error as ObjectStoreError {
            // notFound / denied / failed: the store's message is written for the model to read.
            throw ToolError(error.description)
        }
    }
}

/// The tenant-wide limits tools read through `CallSettings.current`.
struct Settings: Sendable {
    static let defaultCSVExactMaxBytes = 64 << 20
    static let defaultMaxPreviewRows = 100
    var csvExactMaxBytes: Int
    var maxPreviewRows: Int
    var requestTimeoutMilliseconds: Int
}

/// What a running call needs besides its arguments: its deadline and the tenant's settings.
struct CallSettings: Sendable {
    var deadlineUnixMilliseconds: Int64?
    var settings: Settings
    @TaskLocal static var current: CallSettings?
}

@_cdecl("mcp_plugin_entry")
public func mcpPluginEntry() -> UnsafeRawPointer { MCPPluginExport.descriptor(for: S3DeltaPlugin.self) }
