import MCPPluginSDK

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One tenant's Grafana settings. The URL and the token only ever come from here (the host's
/// configuration and environment), never from an MCP client: a client-chosen Grafana URL would let
/// it send the tenant's token anywhere.
struct GrafanaConfiguration: Decodable, Sendable {
    var url: String
    var token_env: String?
    var token_file: String?
    var org_id: Int?
    var allow_writes: Bool?
    var timeout_ms: Int?

    static let schema: JSONSchemaLiteral = """
        {"type":"object","additionalProperties":false,"required":["url"],
         "properties":{
           "url":{"type":"string","description":"Base URL of the Grafana server (http or https), e.g. https://grafana.example"},
           "token_env":{"type":"string","minLength":1,"description":"Environment variable holding a service-account token"},
           "token_file":{"type":"string","minLength":1,"description":"Path of a file holding a service-account token"},
           "org_id":{"type":"integer","minimum":1,"description":"Organization (sent as X-Grafana-Org-Id)"},
           "allow_writes":{"type":"boolean","default":false,"description":"Allow create_dashboard, update_dashboard, create_datasource, create_folder"},
           "timeout_ms":{"type":"integer","minimum":100,"maximum":300000,"description":"Per-request timeout (default 15000)"}},
         "oneOf":[{"required":["token_env"]},{"required":["token_file"]}]}
        """
}

/// The settings an instance works with, checked and with the token resolved.
struct GrafanaSettings: Sendable {
    /// Without a trailing slash.
    let base: String
    let token: String
    let orgID: Int?
    let allowWrites: Bool
    let timeout: Duration

    init(_ c: GrafanaConfiguration, environment: [String: String]) throws {
        base = try ConfigurationValues.baseURL(c.url, credentialsHint: "use token_env or token_file")
        guard let token = try ConfigurationValues.secret("token", env: c.token_env, file: c.token_file, environment: environment)
        else { throw ToolError("configure exactly one of 'token_env' and 'token_file'") }
        self.token = token
        orgID = c.org_id
        allowWrites = c.allow_writes ?? false
        timeout = .milliseconds(c.timeout_ms ?? 15_000)
    }

    /// `host:port` of the base URL, for messages.
    var hostPart: String { ConfigurationValues.authority(of: base) ?? base }
}

extension String {
    var trimmedWhitespace: String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s.removeFirst() }
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
