import MCPPluginSDK

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One tenant's ClickHouse settings as written in the host configuration (already validated
/// against `ClickHousePlugin.configurationSchema`).
struct ClickHouseConfiguration: Decodable, Sendable {
    var url: String
    var user: String?
    var password_env: String?
    var password_file: String?
    var database: String?
    var max_rows: Int?
    var max_result_bytes: Int?
    var timeout_ms: Int?

    static let schema: JSONSchemaLiteral = """
        {"type":"object","additionalProperties":false,"required":["url"],
         "properties":{
           "url":{"type":"string","description":"Base URL of the ClickHouse HTTP interface, e.g. http://clickhouse:8123"},
           "user":{"type":"string","minLength":1,"description":"ClickHouse user (default: default)"},
           "password_env":{"type":"string","minLength":1,"description":"Environment variable holding the password"},
           "password_file":{"type":"string","minLength":1,"description":"File holding the password (one trailing newline is ignored)"},
           "database":{"type":"string","minLength":1,"description":"Default database of queries and listings (default: default)"},
           "max_rows":{"type":"integer","minimum":1,"maximum":100000,"description":"Most rows one query returns (default 1000)"},
           "max_result_bytes":{"type":"integer","minimum":1024,"maximum":16777216,
             "description":"Most bytes of row data (as JSON) one query returns (default 1 MiB)"},
           "timeout_ms":{"type":"integer","minimum":100,"maximum":300000,
             "description":"Longest a query may run; also sent to the server as max_execution_time (default 30000)"}}}
        """
}

/// The configuration turned into what the client needs: secrets resolved, defaults applied.
struct ResolvedSettings: Sendable {
    /// `http(s)://host:port` (plus any path prefix), without a trailing slash.
    var baseURL: String
    var user: String
    /// Sent only in the `X-ClickHouse-Key` header; never logged or shown.
    var password: String?
    var database: String
    var maxRows: Int
    var maxResultBytes: Int
    var timeoutMilliseconds: Int

    static let defaultMaxRows = 1000
    static let defaultMaxResultBytes = 1 << 20
    static let defaultTimeoutMilliseconds = 30_000

    /// A thrown error refuses this tenant's configuration; its message names the key at fault and
    /// never contains a secret.
    init(_ c: ClickHouseConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        baseURL = try ConfigurationValues.baseURL(
            c.url, credentialsHint: "use 'user' with 'password_env' or 'password_file'")
        user = c.user ?? "default"
        database = c.database ?? "default"
        maxRows = c.max_rows ?? Self.defaultMaxRows
        maxResultBytes = c.max_result_bytes ?? Self.defaultMaxResultBytes
        timeoutMilliseconds = c.timeout_ms ?? Self.defaultTimeoutMilliseconds
        password = try ConfigurationValues.secret(
            "password", env: c.password_env, file: c.password_file, environment: environment)
    }

    /// `host:port` of the base URL, for messages.
    var hostPart: String { ConfigurationValues.authority(of: baseURL) ?? baseURL }
}

/// Printing the settings (a log line, a debugger, `dump`) never shows the password.
extension ResolvedSettings: CustomStringConvertible, CustomReflectable {
    var description: String {
        "ClickHouse \(baseURL) user \(user)\(password == nil ? "" : " (password set)") database \(database)"
    }

    var customMirror: Mirror {
        Mirror(self, children: ["baseURL": baseURL, "user": user, "database": database, "maxRows": maxRows])
    }
}
