import MCPPluginSDK

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Grafana's HTTP API through the host's HTTP client: the bearer token and org header on every
/// request, the call's deadline respected, and Grafana's own error messages turned into tool errors
/// (never carrying the token).
struct GrafanaClient: Sendable {
    let settings: GrafanaSettings
    let host: PluginHost

    enum Body {
        case none
        case json(AnyJSON)
        case form([(String, String)])
    }

    /// Sends a request and returns the decoded JSON body of a 2xx answer; any other status throws a
    /// `ToolError` with Grafana's message. `subject` says what the request is about, for that message
    /// ("Grafana answered HTTP 404 for dashboard 'x': Dashboard not found").
    func send(
        _ method: String, _ path: String, query: [(String, String)] = [], body: Body = .none, about subject: String,
        context: ToolContext
    ) async throws -> AnyJSON {
        let response = try await exchange(method, path, query: query, body: body, context: context)
        let json = try? response.json()
        guard (200..<300).contains(response.status) else {
            throw ToolError(redacted(Self.failure(status: response.status, body: json, text: response.text, subject: subject)))
        }
        guard let json else {
            throw ToolError(
                "Grafana answered HTTP \(response.status) for \(subject) with a body that is not JSON: \(redacted(Self.excerpt(response.text)))"
            )
        }
        return json
    }

    /// The raw response (any status): for the Prometheus resource API, whose errors have their own shape.
    func exchange(
        _ method: String, _ path: String, query: [(String, String)] = [], body: Body = .none, context: ToolContext
    ) async throws -> HTTPResponse {
        var url = settings.base + path
        if !query.isEmpty {
            url += "?" + Self.formEncoded(query)
        }
        var timeout = settings.timeout
        if let deadline = context.deadlineUnixMilliseconds {
            // Leave a little of the call's deadline to report the failure ourselves.
            let remaining = deadline - host.nowUnixMilliseconds() - 250
            guard remaining > 0 else { throw ToolError("Grafana request not sent: the tool call's deadline has passed") }
            timeout = min(timeout, .milliseconds(remaining))
        }
        var headers: HTTPHeaders = ["accept": "application/json", "authorization": "Bearer \(settings.token)"]
        if let org = settings.orgID { headers.add(name: "x-grafana-org-id", value: String(org)) }
        var data = Data()
        switch body {
        case .none:
            break
        case .json(let value):
            headers.add(name: "content-type", value: "application/json")
            data = try Self.encoder.encode(value)
        case .form(let pairs):
            headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
            data = Data(Self.formEncoded(pairs).utf8)
        }
        let request = HTTPRequest(method: method, url: url, headers: headers, body: data, timeout: timeout)
        do {
            return try await host.http(request)
        } catch let error as HostHTTPError {
            host.log(.warning, "Grafana request \(method) \(path) failed: \(redacted(error.message))")
            throw ToolError("Grafana is unreachable (\(settings.hostPart)): \(redacted(error.message))")
        }
    }

    /// Grafana's error bodies are `{"message": "...", "status"?: "version-mismatch"}`.
    static func failure(status: Int, body: AnyJSON?, text: String, subject: String) -> String {
        let message = body?["message"]?.string ?? excerpt(text)
        let kind = body?["status"]?.string.map { ", \($0)" } ?? ""
        switch status {
        case 401:
            return "Grafana rejected the configured token (HTTP 401): \(message)"
        case 403:
            return "Grafana denied access to \(subject) (HTTP 403): \(message)"
        default:
            return "Grafana answered HTTP \(status)\(kind) for \(subject): \(message)"
        }
    }

    /// The token never leaves the plugin, even if some server or library echoed it back.
    func redacted(_ text: String) -> String {
        settings.token.count >= 4 ? text.replacing(settings.token, with: "[redacted]") : text
    }

    static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmedWhitespace
        if trimmed.isEmpty { return "(empty body)" }
        return trimmed.count > 500 ? String(trimmed.prefix(500)) + "…" : trimmed
    }

    /// `application/x-www-form-urlencoded` (also used for query strings).
    static func formEncoded(_ pairs: [(String, String)]) -> String {
        pairs.map { SigV4Signer.uriEncode($0.0) + "=" + SigV4Signer.uriEncode($0.1) }.joined(separator: "&")
    }

    /// One path segment (a uid or a name) percent-encoded.
    static func segment(_ value: String) -> String { SigV4Signer.uriEncode(value) }

    /// Sorted keys so request bodies (and tests reading them) are reproducible.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
