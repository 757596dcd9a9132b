import Logging
import MCPHostCore
import MCPJSON
import MCPPlugins
import NIOCore

/// Settings of the protocol layer.
public struct ServerSettings: Sendable {
    public var name = "mcp-host"
    public var version = "0.1.0"
    public var instructions: String?
    /// Deadline of one tool call (bounded further by the request's own deadline, e.g. Lambda's).
    public var callTimeout: Duration = .seconds(30)
    /// tools/list page size.
    public var pageSize = 100
    /// ttlMs of cacheable 2026-07-28 results.
    public var listTTLMilliseconds: Int64 = 60_000
    /// Retry hint of 2025-11-25 SSE priming events.
    public var sseRetryMilliseconds = 1000
    /// Keep-alive comments on long-lived GET streams.
    public var keepAliveInterval: Duration = .seconds(15)
    /// Idle time after which a session expires.
    public var sessionIdleTimeout: Duration = .seconds(1800)
    /// Tool-call metrics; nil: none recorded.
    public var metrics: (any HostMetricsRecorder)?
    public init() {}
}

/// What a method handler knows about the request it serves.
struct RequestScope: Sendable {
    var tenantID: String
    var requestID: String
    var protocolVersion: String
    var stateless: Bool
    var catalog: ToolCatalog
    var progressToken: JSONValue?
    var logLevel: LogLevel?
    var deadline: ContinuousClock.Instant?
    var session: Session?
    /// Sends a notification on this request's stream; nil when the answer is plain JSON.
    var emit: (@Sendable ([UInt8]) -> Void)?
    var logger: RequestLogger
}

/// The MCP method handlers shared by every transport: lifecycle results, tools/list, tools/call.
public final class MCPServer: Sendable {
    public let settings: ServerSettings
    let eventLoopGroup: EventLoopGroup
    let logger: Logger

    let capabilities: JSONValue = ["tools": ["listChanged": false], "logging": [:]]
    let serverInfo: JSONValue
    /// `,"resultType":"complete","_meta":{serverInfo}}`: closes a plugin's result object in 2026-07-28.
    let statelessResultSuffix: [UInt8]

    public init(settings: ServerSettings, eventLoopGroup: EventLoopGroup, logger: Logger) {
        self.settings = settings
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        serverInfo = ["name": .string(settings.name), "version": .string(settings.version)]
        var suffix = Array(#","resultType":"complete","_meta":"#.utf8)
        JSONValue.object([MetaKey.serverInfo: serverInfo]).write(to: &suffix)
        suffix.append(UInt8(ascii: "}"))
        statelessResultSuffix = suffix
    }

    /// `server/discover` (2026-07-28).
    func discoverResult() -> JSONValue {
        var result: JSONObject = [
            "resultType": "complete",
            "supportedVersions": .array(ProtocolVersion.all.map(JSONValue.string)),
            "capabilities": capabilities,
        ]
        if let instructions = settings.instructions { result["instructions"] = .string(instructions) }
        result["ttlMs"] = .int(settings.listTTLMilliseconds)
        result["cacheScope"] = "private"
        result["_meta"] = [MetaKey.serverInfo: serverInfo]
        return .object(result)
    }

    /// `initialize` (2025-x): the negotiated version is the client's if we speak it, else our newest.
    func initializeResult(requested: String) -> (version: String, result: JSONValue) {
        let version = ProtocolVersion.sessionRevisions.contains(requested) ? requested : ProtocolVersion.sessionRevisions[0]
        var result: JSONObject = [
            "protocolVersion": .string(version), "capabilities": capabilities, "serverInfo": serverInfo,
        ]
        if let instructions = settings.instructions { result["instructions"] = .string(instructions) }
        return (version, .object(result))
    }

    /// Methods every revision routes here after transport checks.
    func dispatch(method: String, params: JSONObject, scope: RequestScope) async throws(RPCError) -> RPCResult {
        switch method {
        case "tools/list": return .value(try listTools(params: params, scope: scope))
        case "tools/call": return try await callTool(params: params, scope: scope)
        case "server/discover" where scope.stateless: return .value(discoverResult())
        case "ping" where !scope.stateless: return .value([:])
        case "logging/setLevel" where !scope.stateless:
            guard let name = params["level"]?.stringValue, let level = LogLevel(name: name) else {
                throw .invalidParams("Invalid params: \"level\" must be one of debug, info, notice, warning, error, critical, alert, emergency")
            }
            scope.session?.logLevel = level
            return .value([:])
        default:
            throw RPCError(RPCErrorCode.methodNotFound, "Method not found: \(method)", data: .string(method))
        }
    }

    // MARK: tools/list

    private func listTools(params: JSONObject, scope: RequestScope) throws(RPCError) -> JSONValue {
        let entries = scope.catalog.entries
        var start = 0
        if let cursor = params["cursor"] {
            guard let text = cursor.stringValue, let offset = Self.decodeCursor(text), offset <= entries.count else {
                throw .invalidParams("Invalid params: unknown cursor")
            }
            start = offset
        }
        let end = min(start + settings.pageSize, entries.count)
        let structured = ProtocolVersion.hasStructuredContent(scope.protocolVersion)
        var tools: [JSONValue] = []
        tools.reserveCapacity(end - start)
        for entry in entries[start..<end] {
            tools.append(structured ? entry.listing : entry.listingWithoutOutputSchema)
        }
        var result: JSONObject = ["tools": .array(tools)]
        if end < entries.count { result["nextCursor"] = .string(Self.encodeCursor(end)) }
        if scope.stateless {
            result["resultType"] = "complete"
            result["ttlMs"] = .int(settings.listTTLMilliseconds)
            result["cacheScope"] = "private"
            result["_meta"] = [MetaKey.serverInfo: serverInfo]
        }
        return .object(result)
    }

    /// Cursors are opaque to clients: `c1.<offset>` in base-36 with a check character.
    static func encodeCursor(_ offset: Int) -> String {
        let body = String(offset, radix: 36)
        return "c1." + body + "." + String(body.utf8.reduce(7) { ($0 &* 31 &+ Int($1)) % 36 }, radix: 36)
    }

    static func decodeCursor(_ cursor: String) -> Int? {
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "c1", let offset = Int(parts[1], radix: 36), offset >= 0,
            encodeCursor(offset) == cursor
        else { return nil }
        return offset
    }

    // MARK: tools/call

    private func callTool(params: JSONObject, scope: RequestScope) async throws(RPCError) -> RPCResult {
        guard let name = params["name"]?.stringValue else { throw .invalidParams("Invalid params: \"name\" must be a string") }
        guard let entry = scope.catalog.tool(named: name) else { throw .invalidParams("Unknown tool: \(name)") }
        // Recorded only for tools of the catalog, so the tool label's values are bounded.
        let started = ContinuousClock.now
        var recorded = ToolCallOutcome.internalError
        defer {
            settings.metrics?.recordToolCall(
                tenant: scope.tenantID, tool: name, outcome: recorded, duration: ContinuousClock.now - started)
        }
        let arguments: JSONValue
        switch params["arguments"] {
        case nil, .null?: arguments = .object([:])
        case .object(let object)?: arguments = .object(object)
        default: throw .invalidParams("Invalid params: \"arguments\" must be an object")
        }
        let violations = entry.definition.inputValidator.validate(arguments)
        if !violations.isEmpty {
            let detail = violations.prefix(5).map(\.description).joined(separator: "; ")
            recorded = .invalidArguments
            return .value(toolErrorResult("Invalid arguments for tool \(name): \(detail)", scope: scope))
        }

        let timeout = settings.callTimeout
        var deadlineInstant = ContinuousClock.now.advanced(by: timeout)
        if let requestDeadline = scope.deadline, requestDeadline < deadlineInstant { deadlineInstant = requestDeadline }
        let remaining = ContinuousClock.now.duration(to: deadlineInstant)
        let remainingNanos = max(Int64(0), remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000)
        let deadline = NIODeadline.now() + .nanoseconds(remainingNanos)
        let context = Self.callContext(scope: scope, deadlineUnixMs: Self.unixMilliseconds() + remainingNanos / 1_000_000)

        var progress: (@Sendable (PluginProgress) -> Void)?
        if let token = scope.progressToken, let emit = scope.emit {
            progress = { report in
                var params: JSONObject = ["progressToken": token, "progress": .double(report.progress)]
                if let total = report.total { params["total"] = .double(total) }
                if let message = report.message { params["message"] = .string(message) }
                emit(RPCEncoder.notification(method: "notifications/progress", params: .object(params)))
            }
        }
        let outcome = await entry.instance.call(
            tool: entry.definition.name, arguments: arguments.serialized(), context: context, deadline: deadline,
            on: eventLoopGroup.any(), progress: progress)
        let elapsed = ContinuousClock.now - started

        switch outcome {
        case .result(let bytes):
            let result = try checkedResult(bytes, entry: entry, scope: scope)
            recorded = .ok
            return result
        case .toolError(let message):
            recorded = .toolError
            sendLog(.warning, ["tool": .string(name), "error": .string(message)], scope: scope)
            return .value(toolErrorResult(message, scope: scope))
        case .unknownTool(let message):
            throw .invalidParams("Unknown tool: \(name)\(message.isEmpty ? "" : " (\(message))")")
        case .cancelled:
            recorded = .cancelled
            throw RPCError(RPCErrorCode.requestCancelled, "Request cancelled")
        case .deadlineExceeded(let milliseconds):
            recorded = .deadlineExceeded
            scope.logger.warning(
                "tool call deadline exceeded", metadata: ["tool": "\(name)", "deadline_ms": "\(milliseconds)"])
            sendLog(.error, ["tool": .string(name), "error": "deadline exceeded"], scope: scope)
            return .value(toolErrorResult(
                "Tool \(name) did not finish within its \(milliseconds) ms deadline; it was cancelled", scope: scope))
        case .internalError(let message):
            scope.logger.error(
                "plugin internal error", metadata: ["tool": "\(name)", "error": "\(message)", "elapsed": "\(elapsed)"])
            throw .internalError("Internal error in plugin \(entry.instance.image.name): \(message)")
        }
    }

    /// Checks what a plugin returned: a CallToolResult object, with structuredContent matching
    /// the tool's outputSchema. A plugin that returns anything else is a server-side fault.
    private func checkedResult(_ bytes: [UInt8], entry: ToolEntry, scope: RequestScope) throws(RPCError) -> RPCResult {
        if let checked = skimmedResult(bytes, entry: entry, scope: scope) { return checked }
        let plugin = entry.instance.image.name
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            scope.logger.error("plugin returned invalid JSON", metadata: ["tool": "\(entry.name)", "error": "\(error)"])
            throw .internalError("Internal error: plugin \(plugin) returned invalid JSON (\(error))")
        }
        guard var result = value.objectValue, let content = result["content"]?.arrayValue,
            content.allSatisfy({ $0["type"]?.stringValue != nil })
        else {
            scope.logger.error("plugin returned a malformed result", metadata: ["tool": "\(entry.name)"])
            throw .internalError(
                "Internal error: plugin \(plugin) returned a result that is not a CallToolResult (an object with a \"content\" array of typed blocks)")
        }
        let isError = result["isError"]?.boolValue ?? false
        if let validator = entry.definition.outputValidator, !isError {
            guard let structured = result["structuredContent"] else {
                throw .internalError("Internal error: tool \(entry.name) declares an outputSchema but returned no structuredContent")
            }
            let violations = validator.validate(structured)
            if !violations.isEmpty {
                scope.logger.error(
                    "plugin result violates its outputSchema",
                    metadata: ["tool": "\(entry.name)", "violation": "\(violations[0].description)"])
                throw .internalError(
                    "Internal error: tool \(entry.name) returned structuredContent that does not match its outputSchema: \(violations[0].description)")
            }
        }
        let stripStructured = !ProtocolVersion.hasStructuredContent(scope.protocolVersion) && result["structuredContent"] != nil
        // The plugin's bytes are a checked CallToolResult: send them as they are (with the
        // 2026-07-28 fields appended) rather than serializing the parsed tree again.
        if !stripStructured && (!scope.stateless || (result["resultType"] == nil && result["_meta"] == nil)),
            let forwarded = forwarded(bytes, scope: scope)
        {
            return forwarded
        }
        if stripStructured { result["structuredContent"] = nil }
        if scope.stateless {
            result["resultType"] = "complete"
            result["_meta"] = [MetaKey.serverInfo: serverInfo]
        }
        return .value(.object(result))
    }


    /// `checkedResult` for the usual result, checked without parsing it into a tree (`JSONSkim`):
    /// a `content` array of objects with a string `type`, and `structuredContent` valid against the
    /// outputSchema (only that member is parsed). Nil for anything else — a failed check, a
    /// duplicate member, JSON outside the skim's subset, a result that must be rewritten — and
    /// `checkedResult` decides as it always did, with its errors and logs.
    private func skimmedResult(_ bytes: [UInt8], entry: ToolEntry, scope: RequestScope) -> RPCResult? {
        struct Found {
            var content = false, isError = false, structured: Range<Int>?, rewrite = false
            var seen = 0  // members of interest, one bit each: a repeat goes to the parser's last-wins
        }
        return bytes.withUnsafeBytes { raw -> RPCResult? in
            var found = Found()
            let skimmed = JSONSkim.forEachMember(raw, in: 0..<raw.count) { key, value in
                let bit: Int
                if JSONSkim.bytes(key, equal: "content") {
                    bit = 1
                    found.content = JSONSkim.forEachElement(raw, in: value) { block in
                        var typed = false
                        let ok = JSONSkim.forEachMember(raw, in: block) { key, value in
                            guard JSONSkim.bytes(key, equal: "type") else { return true }
                            guard !typed else { return false }  // repeated: the parser's business
                            typed = raw[value.lowerBound] == UInt8(ascii: "\"")
                            return true
                        }
                        return ok && typed
                    }
                } else if JSONSkim.bytes(key, equal: "isError") {
                    bit = 2
                    found.isError = raw[value.lowerBound] == UInt8(ascii: "t")
                } else if JSONSkim.bytes(key, equal: "structuredContent") {
                    bit = 4
                    found.structured = value
                } else if JSONSkim.bytes(key, equal: "resultType") {
                    bit = 8
                    found.rewrite = scope.stateless  // replaced by the host's, through the tree
                } else if JSONSkim.bytes(key, equal: "_meta") {
                    bit = 16
                    found.rewrite = scope.stateless
                } else {
                    return true
                }
                guard found.seen & bit == 0 else { return false }
                found.seen |= bit
                return true
            }
            guard skimmed, found.content, !found.rewrite else { return nil }
            if found.structured != nil && !ProtocolVersion.hasStructuredContent(scope.protocolVersion) { return nil }
            if let validator = entry.definition.outputValidator, !found.isError {
                guard let range = found.structured,
                    let structured = try? JSONValue.parse(buffer: UnsafeRawBufferPointer(rebasing: raw[range])),
                    validator.validate(structured).isEmpty
                else { return nil }
            }
            return forwarded(bytes, scope: scope)
        }
    }

    /// A checked CallToolResult sent as the plugin wrote it, with the 2026-07-28 fields appended
    /// inside its closing brace for stateless requests; nil when the bytes do not end in `}`.
    private func forwarded(_ bytes: [UInt8], scope: RequestScope) -> RPCResult? {
        guard scope.stateless else { return .verbatim(bytes) }
        guard let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
            bytes[last] == UInt8(ascii: "}")
        else { return nil }
        var out = Array(bytes[..<last])
        out.append(contentsOf: statelessResultSuffix)
        return .verbatim(out)
    }

    func toolErrorResult(_ message: String, scope: RequestScope) -> JSONValue {
        var result: JSONObject = ["content": [["type": "text", "text": .string(message)]], "isError": true]
        if scope.stateless { result["resultType"] = "complete" }
        return .object(result)
    }

    /// Sends `notifications/message` when the request opted in at this level or lower.
    func sendLog(_ level: LogLevel, _ data: JSONObject, scope: RequestScope) {
        guard let emit = scope.emit, let threshold = scope.logLevel ?? scope.session?.logLevel, level >= threshold else {
            return
        }
        emit(
            RPCEncoder.notification(
                method: "notifications/message",
                params: ["level": .string(level.name), "logger": "mcp-host", "data": .object(data)]))
    }

    static func callContext(scope: RequestScope, deadlineUnixMs: Int64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out.append(contentsOf: #"{"tenant":"#.utf8)
        JSONValue.writeString(scope.tenantID, to: &out)
        out.append(contentsOf: #","request_id":"#.utf8)
        JSONValue.writeString(scope.requestID, to: &out)
        out.append(contentsOf: #","progress_token":"#.utf8)
        (scope.progressToken ?? .null).write(to: &out)
        out.append(contentsOf: #","deadline_unix_ms":"#.utf8)
        out.append(contentsOf: String(deadlineUnixMs).utf8)
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func unixMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

#if canImport(Glibc)
import Glibc
#endif
