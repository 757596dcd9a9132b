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
        base = try Self.checkedBase(c.url)
        switch (c.token_env, c.token_file) {
        case (let variable?, nil):
            guard let value = environment[variable]?.trimmedWhitespace, !value.isEmpty else {
                throw ToolError("token_env: environment variable \(variable) is not set")
            }
            token = value
        case (nil, let path?):
            token = try Self.readToken(path)
        default:
            throw ToolError("configure exactly one of 'token_env' and 'token_file'")
        }
        // A header value cannot carry line breaks; refusing here keeps a malformed secret from
        // being sent (or echoed by an HTTP library's error) at all.
        guard !token.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw ToolError("the Grafana token (\(c.token_env.map { "token_env \($0)" } ?? "token_file")) contains a line break")
        }
        orgID = c.org_id
        allowWrites = c.allow_writes ?? false
        timeout = .milliseconds(c.timeout_ms ?? 15_000)
    }

    /// The token file's content without surrounding whitespace (files usually end with a newline).
    /// Errors name the path, never the content.
    private static func readToken(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ToolError("token_file: cannot read \(path)")
        }
        guard let text = String(data: data, encoding: .utf8)?.trimmedWhitespace, !text.isEmpty else {
            throw ToolError("token_file: \(path) is empty or not UTF-8")
        }
        return text
    }

    /// An http(s) URL without credentials, query or fragment; returned without a trailing slash.
    private static func checkedBase(_ url: String) throws -> String {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw ToolError("'url' must be an http:// or https:// URL")
        }
        let authority = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false).dropFirst(2).first ?? ""
        guard !authority.isEmpty else { throw ToolError("'url' has no host") }
        guard !authority.contains("@") else { throw ToolError("'url' must not carry credentials: use token_env or token_file") }
        guard !url.contains("?"), !url.contains("#") else { throw ToolError("'url' must not have a query or fragment") }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// `host:port` of the base URL, for messages.
    var hostPart: String {
        base.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false).dropFirst(2).first.map(String.init) ?? base
    }
}

extension String {
    var trimmedWhitespace: String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s.removeFirst() }
        while let last = s.last, last.isWhitespace { s.removeLast() }
        return String(s)
    }
}
