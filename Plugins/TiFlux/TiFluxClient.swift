import MCPPluginSDK

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// TiFlux REST API v2 over the host's HTTP service: Bearer authentication with the tenant's key,
/// retries (see `RetryPolicy`) inside the tool call's deadline, and TiFlux's error bodies
/// (`{"error_code":42202,"message":"…","detail":{"field":["…"]}}`) turned into messages for the model.
/// The API key goes into the Authorization header only: never into a URL, a log line or an error.
struct TiFluxClient: Sendable {
    /// Base URL without a trailing slash (`https://api.tiflux.com/api/v2`).
    let baseURL: String
    let apiKey: String
    let timeout: Duration
    let retry: RetryPolicy
    let host: PluginHost

    /// Time kept back from the call's deadline to report a failure ourselves instead of the host's
    /// generic timeout.
    static let deadlineMarginMilliseconds: Int64 = 250

    struct Request {
        var method: String
        /// Under the base URL, already percent-encoded (`/tickets/12/answers`).
        var path: String
        var query: [(String, String)] = []
        var body: Data = Data()
        var contentType: String?
        var safety: RetryPolicy.Safety
        /// What a 404 means (`ticket #12`), for the "not found" message.
        var subject: String
    }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var json: AnyJSON
        /// `X-Total-Items`: items matching the filters over all pages.
        var totalItems: Int? { headers["x-total-items"].flatMap { Int($0.trimmedSpaces) } }
    }

    func send(_ request: Request, context: ToolContext) async throws -> Reply {
        var url = baseURL + request.path
        if !request.query.isEmpty {
            url += "?" + request.query.map { Self.formEncode($0.0) + "=" + Self.formEncode($0.1) }.joined(separator: "&")
        }
        var headers: HTTPHeaders = [
            "accept": "application/json", "authorization": "Bearer \(apiKey)", "user-agent": "MCPHost-TiFlux/1.0",
        ]
        if let contentType = request.contentType { headers.add(name: "content-type", value: contentType) }
        let what = "\(request.method) \(request.path)"

        var attempt = 0
        while true {
            let remaining = remainingMilliseconds(context)
            guard remaining > 0 else {
                throw ToolError("TiFlux request \(what) not sent: the tool call's deadline has passed")
            }
            let outgoing = HTTPRequest(
                method: request.method, url: url, headers: headers, body: request.body,
                timeout: min(timeout, .milliseconds(remaining)))
            let response: HTTPResponse?
            var transportError: String?
            do {
                response = try await host.http(outgoing)
            } catch let error as HostHTTPError {
                response = nil
                transportError = error.message
            }
            if let response, (200..<300).contains(response.status) {
                return Reply(status: response.status, headers: response.headers, json: try Self.json(response, what: what))
            }
            let decision = retry.decide(
                status: response?.status, headers: response?.headers ?? [:], attempt: attempt, safety: request.safety,
                nowMilliseconds: host.nowUnixMilliseconds())
            let outcome = response.map { "answered HTTP \($0.status)" } ?? "failed (\(transportError ?? "no response"))"
            if case .retry(let delay) = decision {
                guard delay < remainingMilliseconds(context) else {
                    host.log(.warning, "TiFlux \(what) \(outcome); a retry in \(Self.seconds(delay)) would pass the call's deadline")
                    throw ToolError(
                        failure(response, transportError, request: request, attempts: attempt + 1)
                            + " (the next retry, due in \(Self.seconds(delay)), would pass this call's deadline)")
                }
                host.log(.notice, "TiFlux \(what) \(outcome); retry \(attempt + 1) of \(retry.maxRetries) in \(Self.seconds(delay))")
                try await Task.sleep(for: .milliseconds(delay))
                attempt += 1
                continue
            }
            host.log(.notice, "TiFlux \(what) \(outcome)")
            throw ToolError(failure(response, transportError, request: request, attempts: attempt + 1))
        }
    }

    private func remainingMilliseconds(_ context: ToolContext) -> Int64 {
        guard let deadline = context.deadlineUnixMilliseconds else { return Int64.max / 2 }
        return deadline - host.nowUnixMilliseconds() - Self.deadlineMarginMilliseconds
    }

    /// The message for a request that finally failed.
    private func failure(_ response: HTTPResponse?, _ transportError: String?, request: Request, attempts: Int) -> String {
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        guard let response else {
            return "TiFlux is unreachable (\(ConfigurationValues.authority(of: baseURL) ?? baseURL))\(tries): \(transportError ?? "no response")"
        }
        let upstream = redacted(Self.upstreamMessage(response))
        switch response.status {
        case 401:
            return "TiFlux API key invalid or expired (HTTP 401: \(upstream))"
        case 403:
            return "TiFlux denied access: the key's permission group or licence does not allow this (HTTP 403: \(upstream))"
        case 404:
            return "TiFlux: \(request.subject) not found (HTTP 404: \(upstream))"
        case 400, 422:
            return "TiFlux rejected the request (HTTP \(response.status)): \(upstream)"
        case 429:
            return "TiFlux rate limit exceeded (HTTP 429)\(tries): \(upstream)"
        case 500...599:
            return "TiFlux server error (HTTP \(response.status))\(tries): \(upstream)"
        default:
            return "TiFlux answered HTTP \(response.status): \(upstream)"
        }
    }

    /// A key echoed back by an upstream or a proxy must not reach the model.
    private func redacted(_ text: String) -> String {
        apiKey.count >= 8 ? text.replacing(apiKey, with: "[redacted]") : text
    }

    /// TiFlux's error body as one line: `Problems with body attributes values (error 42202): desk_id: is invalid`.
    static func upstreamMessage(_ response: HTTPResponse) -> String {
        guard let body = try? response.json(), body.object != nil else {
            return excerpt(response.text)
        }
        var text = body["message"]?.string ?? body["error"]?.string ?? excerpt(response.text)
        if let code = body["error_code"]?.number { text += " (error \(Int64(code)))" }
        if let detail = body["detail"]?.object, !detail.isEmpty {
            let parts = detail.keys.sorted().map { key -> String in
                let messages = detail[key]?.array?.compactMap(\.string) ?? [detail[key]?.string].compactMap { $0 }
                return key == "error" ? messages.joined(separator: ", ") : "\(key): \(messages.joined(separator: ", "))"
            }
            text += ": " + parts.joined(separator: "; ")
        }
        return text
    }

    private static func json(_ response: HTTPResponse, what: String) throws -> AnyJSON {
        if response.body.isEmpty { return .null }
        guard let value = try? response.json() else {
            throw ToolError("TiFlux answered \(what) with HTTP \(response.status) and a body that is not JSON: \(excerpt(response.text))")
        }
        return value
    }

    static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmedSpaces
        if trimmed.isEmpty { return "(empty body)" }
        return trimmed.count > 300 ? String(trimmed.prefix(300)) + "…" : trimmed
    }

    private static func seconds(_ milliseconds: Int64) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }

    /// application/x-www-form-urlencoded component encoding (RFC 3986 unreserved kept).
    static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(UnicodeScalar(hex[Int(byte >> 4)])) + String(UnicodeScalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }
}
