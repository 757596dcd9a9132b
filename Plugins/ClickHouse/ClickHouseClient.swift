import MCPPluginSDK

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Result caps for one query, enforced on the server (`max_result_rows` & co.) and again by
/// `ResultTable` on the client.
struct ResultCaps: Sendable {
    var maxRows: Int
    var maxBytes: Int
}

/// Runs SQL over ClickHouse's HTTP interface, through the host's HTTP service.
///
/// Every request carries `readonly=1` as a URL setting: the server then refuses writes, DDL,
/// `SET`, table functions (`url()`, `file()`, `remote()` — no way to make the server fetch
/// elsewhere) and any `SETTINGS` clause, so a query cannot lift the caps below. This works
/// on every version from 18.16 on, for users whose profile allows setting changes (readonly
/// 0 or 2). The SQL travels in the POST body; credentials in `X-ClickHouse-User` /
/// `X-ClickHouse-Key` headers, never in the URL.
struct ClickHouseClient: Sendable {
    let settings: ResolvedSettings
    let host: PluginHost

    /// The server's answer in `JSONCompact`: column names and types, rows of JSON values.
    struct Answer: Sendable {
        struct Column: Codable, Sendable, Equatable {
            var name: String
            var type: String
        }
        struct Statistics: Codable, Sendable {
            var elapsed: Double?
            var rows_read: Double?
            var bytes_read: Double?
        }
        var meta: [Column]
        var data: [[AnyJSON]]
        var statistics: Statistics?

        struct NotCompact: Error {}

        /// `{"meta":[{"name":…,"type":…}],"data":[[…]],"rows":…,"statistics":{…}}`
        init(_ document: AnyJSON) throws {
            guard let meta = document["meta"]?.array, let data = document["data"]?.array else { throw NotCompact() }
            self.meta = try meta.map {
                guard let name = $0["name"]?.string, let type = $0["type"]?.string else { throw NotCompact() }
                return Column(name: name, type: type)
            }
            self.data = try data.map {
                guard let row = $0.array else { throw NotCompact() }
                return row
            }
            statistics = document["statistics"].map {
                Statistics(elapsed: Self.number($0["elapsed"]), rows_read: Self.number($0["rows_read"]), bytes_read: Self.number($0["bytes_read"]))
            }
        }

        /// A number, also when written as a string (64-bit counters may be quoted).
        private static func number(_ value: AnyJSON?) -> Double? {
            if case .string(let text)? = value { return Double(text) }
            return value?.number
        }
    }

    /// Runs `sql` read-only. `database` is the current database (the tenant's default when nil);
    /// `caps` limits the result (only for user queries; catalog queries are bounded by design).
    func query(_ sql: String, database: String? = nil, caps: ResultCaps? = nil, context: ToolContext) async throws -> Answer {
        let request = try self.request(sql, database: database, caps: caps, context: context)
        let response: HTTPResponse
        do {
            response = try await host.http(request)
        } catch let error as HostHTTPError {
            host.log(.warning, "ClickHouse request failed: \(error.message)")
            if error.message.hasPrefix("response larger than") {
                throw ToolError(
                    "the result is larger than \(request.maxResponseBytes) bytes before it could be truncated: select fewer or narrower columns, or add a LIMIT"
                )
            }
            throw ToolError("ClickHouse is unreachable (\(settings.hostPart)): \(error.message)")
        }
        guard response.status == 200 else { throw failure(response) }
        return try Self.answer(response)
    }

    /// The POST carrying `sql`, with the read-only setting, the caps and the timeouts as URL
    /// settings and the credentials as headers.
    private func request(_ sql: String, database: String?, caps: ResultCaps?, context: ToolContext) throws -> HTTPRequest {
        // Leave a little of the call's deadline to report a timeout ourselves.
        var timeout = settings.timeoutMilliseconds
        var remaining = Int.max
        if let deadline = context.deadlineUnixMilliseconds {
            remaining = Int(deadline - host.nowUnixMilliseconds())
            guard remaining > 250 else { throw ToolError("ClickHouse query not sent: the tool call's deadline has passed") }
            timeout = min(timeout, remaining - 250)
        }
        var parameters: [(String, String)] = [
            ("database", database ?? settings.database),
            ("default_format", "JSONCompact"),
            // 64-bit integers as JSON strings: a JSON number (a double) would round them.
            ("output_format_json_quote_64bit_integers", "1"),
            // The server stops on its own no later than we would give up waiting.
            ("max_execution_time", String(max(1, timeout / 1000))),
        ]
        var maxResponseBytes = 8 << 20
        if let caps {
            // One row more than the cap tells "exactly at the cap" from "truncated". `break` stops
            // reading once a block overflows (no error), so the server does little more than
            // needed; the block size bounds how far past the cap that last block goes. The server
            // counts bytes in memory, which differ from the JSON text by a small factor either
            // way: at 8x the client's JSON cap the client's own cut (which labels the result)
            // comes first for ordinary data, and the server still stops on runaway results.
            parameters += [
                ("max_result_rows", String(caps.maxRows + 1)),
                ("max_result_bytes", String(caps.maxBytes * 8)),
                ("result_overflow_mode", "break"),
                ("max_block_size", String(min(65536, max(8192, caps.maxRows + 1)))),
            ]
            maxResponseBytes = min(64 << 20, max(8 << 20, caps.maxBytes * 16))
        }
        // Last, so that a server applying URL settings one by one has taken the others first.
        parameters.append(("readonly", "1"))
        let url = settings.baseURL + "/?" + parameters.map { "\($0.0)=\(SigV4Signer.uriEncode($0.1))" }.joined(separator: "&")
        var headers: HTTPHeaders = ["content-type": "text/plain; charset=utf-8", "x-clickhouse-user": settings.user]
        if let password = settings.password { headers.add(name: "x-clickhouse-key", value: password) }
        // The HTTP wait outlasts max_execution_time by a second, so the server's own "Timeout
        // exceeded" answer arrives before the connection is dropped.
        let httpTimeout = min(timeout + 1000, remaining - 100)
        return HTTPRequest(
            method: "POST", url: url, headers: headers, body: Data(sql.utf8), timeout: .milliseconds(httpTimeout),
            maxResponseBytes: maxResponseBytes)
    }

    /// The JSONCompact document of a 200 answer.
    private static func answer(_ response: HTTPResponse) throws -> Answer {
        do {
            return try Answer(AnyJSON.parse(response.body))
        } catch {
            let text = response.text
            // An exception after the server started streaming arrives in a 200 body, appended
            // to the partial output.
            if let range = text.ranges(of: "Code: ").last, text[range.lowerBound...].contains("Exception") {
                throw ToolError("ClickHouse error: \(cleaned(String(text[range.lowerBound...])))")
            }
            throw ToolError(
                "ClickHouse answered in a format other than JSONCompact (a FORMAT clause in the query?); remove any FORMAT"
                    + " clause: results always come as JSON. Answer began: \(excerpt(text))")
        }
    }

    /// The server's error, with its own message (`Code: 62, e.displayText() = DB::Exception: Syntax error ...`).
    private func failure(_ response: HTTPResponse) -> ToolError {
        let message = Self.cleaned(response.text)
        let code = Self.errorCode(message)
        host.log(.notice, "ClickHouse answered HTTP \(response.status)\(code.map { " (code \($0))" } ?? "")")
        // 192 UNKNOWN_USER, 193 WRONG_PASSWORD, 194 REQUIRED_PASSWORD, 516 AUTHENTICATION_FAILED.
        if response.status == 401 || response.status == 403 || [192, 193, 194, 516].contains(code ?? 0) {
            return ToolError(
                "ClickHouse authentication failed for user '\(settings.user)' (HTTP \(response.status)): \(message) — check the tenant's 'user' and password setting"
            )
        }
        if code == 164 {  // READONLY
            var text = "ClickHouse refused it in read-only mode (every query here runs with readonly=1): \(message)"
            // A profile that sets readonly itself refuses the settings sent with each query, ours
            // included (18.16: "Setting 'readonly' cannot be overrided" under readonly=2, "Cannot
            // override setting (x)" under readonly=1; later: "Cannot modify 'x' setting").
            if message.contains("etting"), !message.contains("SET query") {
                text +=
                    ". Unless the query has a SETTINGS clause, the ClickHouse user's profile sets readonly (1 or 2) and so refuses"
                    + " the settings this plugin sends with every query (readonly=1, caps, timeout): use a user whose profile"
                    + " leaves readonly at 0 — the plugin makes every query read-only itself"
            }
            return ToolError(text)
        }
        return ToolError("ClickHouse error (HTTP \(response.status)): \(message)")
    }

    /// `Code: 62` → 62.
    static func errorCode(_ message: String) -> Int? {
        guard let range = message.firstRange(of: "Code: ") else { return nil }
        return Int(message[range.upperBound...].prefix { $0.isNumber })
    }

    /// The message without the `, e.what() = DB::Exception` tail old servers add, trimmed and bounded.
    static func cleaned(_ text: String) -> String {
        var message = text.trimmingWhitespace
        if let tail = message.ranges(of: ", e.what() = DB::Exception").last {
            message.removeSubrange(tail.lowerBound...)
        }
        return excerpt(message, limit: 2000)
    }

    static func excerpt(_ text: String, limit: Int = 300) -> String {
        let trimmed = text.trimmingWhitespace
        if trimmed.isEmpty { return "(empty body)" }
        return trimmed.count > limit ? String(trimmed.prefix(limit)) + "…" : trimmed
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
