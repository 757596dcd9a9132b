import Foundation
import Logging
import MCPHostCore
import MCPJSON

/// MCP's Streamable HTTP transport on one endpoint, all revisions, chosen per request:
/// - 2026-07-28 (stateless): POST only; `_meta` on every request; `MCP-Protocol-Version`,
///   `Mcp-Method`, `Mcp-Name` headers checked against the body; JSON or a per-request SSE stream,
///   whose closing cancels the request.
/// - 2025-11-25 / 2025-06-18 / 2025-03-26 (sessions): initialize mints `Mcp-Session-Id`; POST,
///   GET (server→client stream) and DELETE; resumable SSE with `Last-Event-ID`.
public final class StreamableHTTPTransport: Sendable {
    let server: MCPServer
    let sessions: SessionStore
    let logger: Logger

    public init(server: MCPServer, sessions: SessionStore, logger: Logger) {
        self.server = server
        self.sessions = sessions
        self.logger = logger
    }

    public func handle(_ request: HostRequest, tenant: TenantHandle) async -> HostResponse {
        // Request id and tenant are added where a line is written (RequestLogger), not by copying
        // the logger's metadata on every request.
        let logger = RequestLogger(base: self.logger, requestID: request.requestID, tenantID: tenant.tenantID)
        switch request.method {
        case "POST": return await post(request, tenant: tenant, logger: logger)
        case "GET": return get(request, tenant: tenant)
        case "DELETE": return delete(request, tenant: tenant)
        default:
            return HostResponse.error(405, "method \(request.method) is not allowed on the MCP endpoint", headers: ["allow": "GET, POST, DELETE"])
        }
    }

    // MARK: - POST

    private func post(_ request: HostRequest, tenant: TenantHandle, logger: RequestLogger) async -> HostResponse {
        if let contentType = request.headers["content-type"], !Self.isJSONMediaType(contentType) {
            return rpcError(415, RPCError(RPCErrorCode.invalidRequest, "Content-Type must be application/json"))
        }
        let body: JSONValue
        do { body = try JSONValue.parse(request.body) } catch {
            return rpcError(400, RPCError(RPCErrorCode.parseError, "Parse error: \(error)"))
        }
        let versionHeader = request.headers["mcp-protocol-version"]
        if let versionHeader {
            if versionHeader == ProtocolVersion.stateless {
                return await statelessPost(request, body: body, tenant: tenant, logger: logger)
            }
            guard ProtocolVersion.sessionRevisions.contains(versionHeader) else {
                return rpcError(400, unsupportedVersion(versionHeader, id: body["id"]), id: body["id"])
            }
        } else if body["params"]?["_meta"]?[MetaKey.protocolVersion] != nil, body["method"]?.stringValue != "initialize" {
            // A stateless request without its required header: the header check answers it.
            return await statelessPost(request, body: body, tenant: tenant, logger: logger)
        }
        return await sessionPost(request, body: body, version: versionHeader, tenant: tenant, logger: logger)
    }

    private func unsupportedVersion(_ requested: String, id: JSONValue?) -> RPCError {
        RPCError(
            RPCErrorCode.unsupportedProtocolVersion, "Unsupported protocol version: \(requested)",
            data: ["supported": .array(ProtocolVersion.all.map(JSONValue.string)), "requested": .string(requested)])
    }

    // MARK: 2026-07-28

    private func statelessPost(_ request: HostRequest, body: JSONValue, tenant: TenantHandle, logger: RequestLogger) async -> HostResponse {
        let accept = AcceptHeader(request.headers["accept"])
        if case .array = body {
            return rpcError(400, RPCError(RPCErrorCode.invalidRequest, "Invalid Request: batches are not supported in \(ProtocolVersion.stateless)"))
        }
        let message: RPCMessage
        do { message = try RPCMessage(body) } catch { return rpcError(400, error, id: body["id"]) }
        let id: JSONValue
        let method: String
        let params: JSONObject
        switch message {
        case .response:
            return rpcError(400, RPCError(RPCErrorCode.invalidRequest, "Invalid Request: \(ProtocolVersion.stateless) accepts no responses from clients"))
        case .notification:
            return HostResponse(status: 202)
        case .request(let requestID, let requestMethod, let requestParams):
            id = requestID
            method = requestMethod
            params = requestParams
        }
        guard accept.allowsJSON || accept.allowsSSE else {
            return rpcError(406, RPCError(RPCErrorCode.invalidRequest, "Not Acceptable: Accept must include application/json and text/event-stream"), id: id)
        }
        // _meta envelope
        let meta = params["_meta"]?.objectValue ?? [:]
        var missing: [String] = []
        if meta[MetaKey.protocolVersion]?.stringValue == nil { missing.append(MetaKey.protocolVersion) }
        if meta[MetaKey.clientCapabilities]?.objectValue == nil { missing.append(MetaKey.clientCapabilities) }
        if !missing.isEmpty {
            return rpcError(400, .invalidParams("Invalid params: params._meta is missing the required key(s): \(missing.joined(separator: ", "))"), id: id)
        }
        let metaVersion = meta[MetaKey.protocolVersion]!.stringValue!
        // Header rung: each routing header must be present and equal its body value.
        if let mismatch = Self.headerMismatch(request.headers, method: method, params: params, metaVersion: metaVersion) {
            return rpcError(400, RPCError(RPCErrorCode.headerMismatch, "Header mismatch: \(mismatch)"), id: id)
        }
        guard metaVersion == ProtocolVersion.stateless else {
            return rpcError(400, unsupportedVersion(metaVersion, id: id), id: id)
        }
        var logLevel: LogLevel?
        if let levelValue = meta[MetaKey.logLevel] {
            guard let name = levelValue.stringValue, let level = LogLevel(name: name) else {
                return rpcError(400, .invalidParams("Invalid params: unknown log level in _meta"), id: id)
            }
            logLevel = level
        }
        guard ["server/discover", "tools/list", "tools/call"].contains(method) else {
            return rpcError(404, RPCError(RPCErrorCode.methodNotFound, "Method not found: \(method)", data: .string(method)), id: id)
        }
        let catalog: ToolCatalog
        do { catalog = try await tenant.currentCatalog() } catch {
            logger.error("tenant server unavailable", metadata: ["error": "\(error)"])
            return rpcError(503, .internalError("Internal error: this tenant's tools are unavailable: \(error)"), id: id)
        }
        var scope = RequestScope(
            tenantID: tenant.tenantID, requestID: request.requestID, protocolVersion: ProtocolVersion.stateless,
            stateless: true, catalog: catalog, progressToken: meta[MetaKey.progressToken], logLevel: logLevel,
            deadline: request.deadline, session: nil, emit: nil, logger: logger)
        let wantsStream = method == "tools/call" && (scope.progressToken != nil || logLevel != nil)
        if accept.allowsSSE && (wantsStream || !accept.allowsJSON) {
            let (chunks, continuation) = AsyncStream<[UInt8]>.makeStream()
            scope.emit = { continuation.yield(SSE.frame($0)) }
            let server = self.server
            let work = Task {
                let answer: [UInt8]
                do throws(RPCError) { answer = RPCEncoder.result(id: id, try await server.dispatch(method: method, params: params, scope: scope)) } catch {
                    answer = RPCEncoder.error(id: id, error)
                }
                continuation.yield(SSE.frame(answer))
                continuation.finish()
            }
            // On HTTP, closing the stream is how a 2026-07-28 client cancels.
            let stream = HostResponseStream(chunks: chunks) { work.cancel() }
            return HostResponse(status: 200, headers: Self.sseHeaders, body: .stream(stream))
        }
        do {
            let result = try await server.dispatch(method: method, params: params, scope: scope)
            return HostResponse(status: 200, headers: Self.jsonHeaders, body: .bytes(RPCEncoder.result(id: id, result)))
        } catch {
            return rpcError(error.httpStatus, error, id: id)
        }
    }

    /// Returns a description of the first routing header that is missing or differs from the body.
    static func headerMismatch(_ headers: HostHeaders, method: String, params: JSONObject, metaVersion: String) -> String? {
        // One pass per routing header: a count and then a lookup were two (~3.5k instructions of
        // a ~193k-instruction tools/call, scripts/callgrind-request-cost).
        let versionFound = headers.firstValueAndCount(of: "mcp-protocol-version")
        let methodFound = headers.firstValueAndCount(of: "mcp-method")
        let nameFound = headers.firstValueAndCount(of: "mcp-name")
        if versionFound.count > 1 { return "mcp-protocol-version header appears more than once" }
        if methodFound.count > 1 { return "mcp-method header appears more than once" }
        if nameFound.count > 1 { return "mcp-name header appears more than once" }
        guard let version = versionFound.value else { return "missing MCP-Protocol-Version header" }
        if version != metaVersion {
            return "MCP-Protocol-Version header value '\(version)' does not match _meta protocolVersion '\(metaVersion)'"
        }
        guard let methodHeader = methodFound.value.map(decodeHeaderValue) else { return "missing Mcp-Method header" }
        if methodHeader != method { return "Mcp-Method header value '\(methodHeader)' does not match body method '\(method)'" }
        let nameKey: String? = switch method {
        case "tools/call", "prompts/get": "name"
        case "resources/read": "uri"
        default: nil
        }
        if let nameKey {
            guard let nameHeader = nameFound.value.map(decodeHeaderValue) else { return "missing Mcp-Name header" }
            let bodyName = params[nameKey]?.stringValue ?? ""
            if nameHeader != bodyName { return "Mcp-Name header value '\(nameHeader)' does not match body \(nameKey) '\(bodyName)'" }
        }
        return nil
    }

    /// Decodes the `=?base64?…?=` form clients use for values that are not header-safe.
    static func decodeHeaderValue(_ value: String) -> String {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else { return value }
        let encoded = value.dropFirst(9).dropLast(2)
        guard let bytes = Data(base64Encoded: String(encoded)) else { return value }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: 2025-x sessions

    private func sessionPost(
        _ request: HostRequest, body: JSONValue, version: String?, tenant: TenantHandle, logger: RequestLogger
    ) async -> HostResponse {
        let accept = AcceptHeader(request.headers["accept"])
        if case .array(let elements) = body {
            return await batch(request, elements: elements, version: version, tenant: tenant, accept: accept, logger: logger)
        }
        let message: RPCMessage
        do { message = try RPCMessage(body) } catch { return rpcError(400, error, id: body["id"]) }
        if case .request(let id, "initialize", let params) = message {
            return await initialize(request, id: id, params: params, tenant: tenant, accept: accept, logger: logger)
        }
        let session: Session
        switch resolveSession(request, tenant: tenant, version: version) {
        case .success(let found): session = found
        case .failure(let response): return response
        }
        switch message {
        case .response: return HostResponse(status: 202)
        case .notification(let method, let params):
            notification(method: method, params: params, session: session)
            return HostResponse(status: 202)
        case .request(let id, let method, let params):
            guard accept.allowsJSON || accept.allowsSSE else {
                return rpcError(406, RPCError(RPCErrorCode.invalidRequest, "Not Acceptable: Accept must include application/json and text/event-stream"), id: id)
            }
            return await sessionRequest(
                request, id: id, method: method, params: params, session: session, accept: accept, logger: logger)
        }
    }

    private func initialize(
        _ request: HostRequest, id: JSONValue, params: JSONObject, tenant: TenantHandle, accept: AcceptHeader, logger: RequestLogger
    ) async -> HostResponse {
        guard accept.allowsJSON || accept.allowsSSE else {
            return rpcError(406, RPCError(RPCErrorCode.invalidRequest, "Not Acceptable: Accept must include application/json and text/event-stream"), id: id)
        }
        guard let requested = params["protocolVersion"]?.stringValue else {
            return rpcError(400, .invalidParams("Invalid params: initialize needs a string \"protocolVersion\""), id: id)
        }
        let catalog: ToolCatalog
        do { catalog = try await tenant.currentCatalog() } catch {
            logger.error("tenant server unavailable", metadata: ["error": "\(error)"])
            return rpcError(503, .internalError("Internal error: this tenant's tools are unavailable: \(error)"), id: id)
        }
        let (version, result) = server.initializeResult(requested: requested)
        let session = Session(
            id: Session.newID(), tenantID: tenant.tenantID, protocolVersion: version, clientInfo: params["clientInfo"],
            catalog: catalog)
        do { try sessions.insert(session) } catch {
            logger.warning("session refused", metadata: ["error": "\(error.description)"])
            return rpcError(503, .internalError("Internal error: \(error.description)"), id: id)
        }
        logger.info("session started", metadata: ["session": "\(session.id.prefix(8))", "version": "\(version)"])
        let answer = RPCEncoder.result(id: id, result)
        var headers = accept.allowsJSON ? Self.jsonHeaders : Self.sseHeaders
        headers.set("mcp-session-id", session.id)
        if accept.allowsJSON { return HostResponse(status: 200, headers: headers, body: .bytes(answer)) }
        let stream = session.newStream()
        let chunks = stream.subscribe(after: 0)
        stream.send(answer)
        stream.finish()
        return HostResponse(status: 200, headers: headers, body: .stream(HostResponseStream(chunks: chunks) { stream.detach() }))
    }

    private enum SessionLookup {
        case success(Session)
        case failure(HostResponse)
    }

    private func resolveSession(_ request: HostRequest, tenant: TenantHandle, version: String?) -> SessionLookup {
        guard let id = request.headers["mcp-session-id"] else {
            return .failure(rpcError(400, RPCError(RPCErrorCode.invalidRequest, "Bad Request: missing Mcp-Session-Id header")))
        }
        // A session presented with another tenant's credentials is as unknown as a made-up id.
        guard let session = sessions.session(id: id), session.tenantID == tenant.tenantID else {
            return .failure(rpcError(404, RPCError(RPCErrorCode.invalidRequest, "Session not found")))
        }
        if let version, version != session.protocolVersion {
            return .failure(rpcError(400, RPCError(
                RPCErrorCode.invalidRequest,
                "Bad Request: MCP-Protocol-Version \(version) differs from the session's negotiated \(session.protocolVersion)")))
        }
        return .success(session)
    }

    private func notification(method: String, params: JSONObject, session: Session) {
        switch method {
        case "notifications/initialized": break  // accepted; requests are served from initialize on
        case "notifications/cancelled":
            if let requestID = params["requestId"] { session.cancel(request: requestID) }
        default: break  // progress, roots/list_changed...: nothing to do
        }
    }

    private func sessionRequest(
        _ request: HostRequest, id: JSONValue, method: String, params: JSONObject, session: Session, accept: AcceptHeader,
        logger: RequestLogger
    ) async -> HostResponse {
        let progressToken = params["_meta"]?[MetaKey.progressToken]
        var scope = RequestScope(
            tenantID: session.tenantID, requestID: request.requestID, protocolVersion: session.protocolVersion,
            stateless: false, catalog: session.catalog, progressToken: progressToken, logLevel: nil,
            deadline: request.deadline, session: session, emit: nil, logger: logger)
        let wantsStream = method == "tools/call" && (progressToken != nil || session.logLevel != nil)
        let server = self.server
        if accept.allowsSSE && (wantsStream || !accept.allowsJSON) {
            let stream = session.newStream()
            let chunks = stream.subscribe(after: 0)
            if session.protocolVersion >= "2025-11-25" { stream.prime(retryMilliseconds: server.settings.sseRetryMilliseconds) }
            scope.emit = { stream.send($0) }
            let work = Task {
                do throws(RPCError) {
                    stream.send(RPCEncoder.result(id: id, try await server.dispatch(method: method, params: params, scope: scope)))
                } catch where error.code != RPCErrorCode.requestCancelled {
                    stream.send(RPCEncoder.error(id: id, error))
                } catch {
                    // Cancelled by the client: the spec says not to answer it.
                }
                stream.finish()
                session.unregister(request: id)
            }
            session.register(request: id) { work.cancel() }
            // In 2025-x a disconnect is not a cancellation: the answer is kept for Last-Event-ID.
            return HostResponse(status: 200, headers: Self.sseHeaders, body: .stream(HostResponseStream(chunks: chunks) { stream.detach() }))
        }
        let scopeCopy = scope
        let work = Task { () -> [UInt8]? in
            do throws(RPCError) {
                return RPCEncoder.result(id: id, try await server.dispatch(method: method, params: params, scope: scopeCopy))
            } catch where error.code == RPCErrorCode.requestCancelled {
                return nil
            } catch {
                return RPCEncoder.error(id: id, error)
            }
        }
        session.register(request: id) { work.cancel() }
        let answer = await withTaskCancellationHandler { await work.value } onCancel: { work.cancel() }
        session.unregister(request: id)
        // A request the client cancelled gets no JSON-RPC answer; the HTTP exchange still ends.
        guard let answer else { return HostResponse(status: 202) }
        return HostResponse(status: 200, headers: Self.jsonHeaders, body: .bytes(answer))
    }

    private func batch(
        _ request: HostRequest, elements: [JSONValue], version: String?, tenant: TenantHandle, accept: AcceptHeader,
        logger: RequestLogger
    ) async -> HostResponse {
        let session: Session
        switch resolveSession(request, tenant: tenant, version: version) {
        case .success(let found): session = found
        case .failure(let response): return response
        }
        guard ProtocolVersion.allowsBatches(session.protocolVersion) else {
            return rpcError(400, RPCError(RPCErrorCode.invalidRequest, "Invalid Request: batches are not supported in \(session.protocolVersion)"))
        }
        guard !elements.isEmpty else { return rpcError(400, RPCError(RPCErrorCode.invalidRequest, "Invalid Request: empty batch")) }
        var answers: [[UInt8]] = []
        for element in elements {
            let message: RPCMessage
            do { message = try RPCMessage(element) } catch {
                answers.append(RPCEncoder.error(id: element["id"], error))
                continue
            }
            switch message {
            case .response: continue
            case .notification(let method, let params): notification(method: method, params: params, session: session)
            case .request(let id, let method, let params):
                if method == "initialize" {
                    answers.append(RPCEncoder.error(id: id, RPCError(RPCErrorCode.invalidRequest, "Invalid Request: initialize cannot be batched")))
                    continue
                }
                let scope = RequestScope(
                    tenantID: session.tenantID, requestID: request.requestID, protocolVersion: session.protocolVersion,
                    stateless: false, catalog: session.catalog, progressToken: nil, logLevel: nil, deadline: request.deadline,
                    session: session, emit: nil, logger: logger)
                do throws(RPCError) { answers.append(RPCEncoder.result(id: id, try await server.dispatch(method: method, params: params, scope: scope))) } catch {
                    answers.append(RPCEncoder.error(id: id, error))
                }
            }
        }
        if answers.isEmpty { return HostResponse(status: 202) }
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, answer) in answers.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: answer)
        }
        out.append(UInt8(ascii: "]"))
        return HostResponse(status: 200, headers: Self.jsonHeaders, body: .bytes(out))
    }

    // MARK: - GET and DELETE

    private func get(_ request: HostRequest, tenant: TenantHandle) -> HostResponse {
        if request.headers["mcp-protocol-version"] == ProtocolVersion.stateless {
            return HostResponse.error(405, "\(ProtocolVersion.stateless) serves POST only", headers: ["allow": "POST"])
        }
        guard AcceptHeader(request.headers["accept"]).allowsSSE else {
            return rpcError(406, RPCError(RPCErrorCode.invalidRequest, "Not Acceptable: GET needs Accept: text/event-stream"))
        }
        let session: Session
        switch resolveSession(request, tenant: tenant, version: request.headers["mcp-protocol-version"]) {
        case .success(let found): session = found
        case .failure(let response): return response
        }
        var stream = session.standaloneStream
        var after = Int.max
        if let lastEventID = request.headers["last-event-id"], let position = EventStream.parse(eventID: lastEventID),
            let resumed = session.stream(index: position.stream)
        {
            stream = resumed
            after = position.sequence
        }
        let keepAlive = stream === session.standaloneStream ? server.settings.keepAliveInterval : nil
        let chunks = stream.subscribe(after: after, keepAlive: keepAlive)
        let target = stream
        return HostResponse(status: 200, headers: Self.sseHeaders, body: .stream(HostResponseStream(chunks: chunks) { target.detach() }))
    }

    private func delete(_ request: HostRequest, tenant: TenantHandle) -> HostResponse {
        if request.headers["mcp-protocol-version"] == ProtocolVersion.stateless {
            return HostResponse.error(405, "\(ProtocolVersion.stateless) serves POST only", headers: ["allow": "POST"])
        }
        switch resolveSession(request, tenant: tenant, version: nil) {
        case .failure(let response): return response
        case .success(let session):
            sessions.remove(id: session.id)
            logger.info("session ended", metadata: ["session": "\(session.id.prefix(8))", "request_id": "\(request.requestID)", "tenant": "\(tenant.tenantID)"])
            return HostResponse(status: 200)
        }
    }

    // MARK: - helpers

    /// `application/json`, with any parameters (`; charset=utf-8`), any case; no Foundation.
    static func isJSONMediaType(_ value: String) -> Bool {
        let expected = Array("application/json".utf8)
        var value = value
        return value.withUTF8 { bytes in
            var start = 0
            while start < bytes.count && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
            guard bytes.count - start >= expected.count else { return false }
            for i in 0..<expected.count where bytes[start + i] | 0x20 != expected[i] | 0x20 { return false }
            let next = start + expected.count
            return next == bytes.count || bytes[next] == UInt8(ascii: ";") || bytes[next] == 0x20
        }
    }

    static let jsonHeaders: HostHeaders = ["content-type": "application/json"]
    static let sseHeaders: HostHeaders = [
        "content-type": "text/event-stream", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no",
    ]

    private func rpcError(_ status: Int, _ error: RPCError, id: JSONValue? = nil) -> HostResponse {
        HostResponse(status: status, headers: Self.jsonHeaders, body: .bytes(RPCEncoder.error(id: id, error)))
    }
}

/// What the client's Accept header allows. Scanned as bytes: it is read on every request.
struct AcceptHeader {
    var allowsJSON = false
    var allowsSSE = false

    init(_ header: String?) {
        // MCP clients must list what they accept; a request without Accept gets 406.
        guard var header, !header.isEmpty else { return }
        header.withUTF8 { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
                // The media range is the part before any ';' parameters, without spaces.
                var typeEnd = start
                while typeEnd < end && bytes[typeEnd] != UInt8(ascii: ";") { typeEnd += 1 }
                var a = start
                var b = typeEnd
                while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
                while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
                let range = UnsafeBufferPointer(rebasing: bytes[a..<b])
                if Self.matches(range, "application/json") || Self.matches(range, "application/*") {
                    allowsJSON = true
                } else if Self.matches(range, "text/event-stream") || Self.matches(range, "text/*") {
                    allowsSSE = true
                } else if Self.matches(range, "*/*") {
                    allowsJSON = true
                    allowsSSE = true
                }
                start = end + 1
            }
        }
    }

    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        for i in 0..<bytes.count where bytes[i] | 0x20 != expected[i] | 0x20 { return false }
        return true
    }
}
