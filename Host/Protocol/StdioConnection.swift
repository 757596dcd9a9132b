import Logging
import MCPJSON
import NIOConcurrencyHelpers

/// MCP over a newline-delimited JSON-RPC byte stream (stdio) for one client and one tenant.
/// Speaks 2026-07-28 (each request carries `_meta`) and the session revisions (initialize first).
/// Requests run concurrently; `notifications/cancelled` stops one.
public final class StdioConnection: Sendable {
    private let server: MCPServer
    private let tenant: TenantHandle
    private let logger: Logger
    private let send: @Sendable ([UInt8]) -> Void
    private struct State {
        var session: Session?
        var inFlight: [JSONValue: Task<Void, Never>] = [:]
    }
    private let state = NIOLockedValueBox(State())

    /// `send` writes one message (without the newline); calls may come from any task.
    public init(server: MCPServer, tenant: TenantHandle, logger: Logger, send: @escaping @Sendable ([UInt8]) -> Void) {
        self.server = server
        self.tenant = tenant
        self.logger = logger
        self.send = send
    }

    /// Handles one line. Requests are started and this returns at once.
    public func receive(line: [UInt8]) async {
        let value: JSONValue
        do { value = try JSONValue.parse(line) } catch {
            send(RPCEncoder.error(id: nil, RPCError(RPCErrorCode.parseError, "Parse error: \(error)")))
            return
        }
        if case .array = value {
            send(RPCEncoder.error(id: nil, RPCError(RPCErrorCode.invalidRequest, "Invalid Request: batches are not supported on stdio")))
            return
        }
        let message: RPCMessage
        do { message = try RPCMessage(value) } catch {
            send(RPCEncoder.error(id: value["id"], error))
            return
        }
        switch message {
        case .response: return
        case .notification(let method, let params):
            switch method {
            case "notifications/initialized": break  // accepted; requests are served from initialize on
            case "notifications/cancelled":
                if let id = params["requestId"] { state.withLockedValue { $0.inFlight[id] }?.cancel() }
            default: break
            }
        case .request(let id, let method, let params):
            await request(id: id, method: method, params: params)
        }
    }

    /// Waits for every running request to answer.
    public func drain() async {
        while let task = state.withLockedValue({ $0.inFlight.values.first }) { await task.value }
    }

    /// End of input: the client is gone, so running requests are cancelled rather than awaited.
    public func close() async {
        for task in state.withLockedValue({ Array($0.inFlight.values) }) { task.cancel() }
        await drain()
    }

    private func request(id: JSONValue, method: String, params: JSONObject) async {
        let logger = RequestLogger(base: self.logger, requestID: "stdio-\(id)", tenantID: tenant.tenantID)
        let meta = params["_meta"]?.objectValue
        let stateless = meta?[MetaKey.protocolVersion] != nil && method != "initialize"
        var scope: RequestScope
        if stateless {
            guard let version = meta?[MetaKey.protocolVersion]?.stringValue, meta?[MetaKey.clientCapabilities]?.objectValue != nil else {
                send(RPCEncoder.error(id: id, .invalidParams("Invalid params: params._meta needs protocolVersion and clientCapabilities")))
                return
            }
            guard version == ProtocolVersion.stateless else {
                send(RPCEncoder.error(id: id, RPCError(
                    RPCErrorCode.unsupportedProtocolVersion, "Unsupported protocol version: \(version)",
                    data: ["supported": .array(ProtocolVersion.all.map(JSONValue.string)), "requested": .string(version)])))
                return
            }
            var logLevel: LogLevel?
            if let name = meta?[MetaKey.logLevel]?.stringValue {
                guard let level = LogLevel(name: name) else {
                    send(RPCEncoder.error(id: id, .invalidParams("Invalid params: unknown log level \(name)")))
                    return
                }
                logLevel = level
            }
            let catalog: ToolCatalog
            do { catalog = try await tenant.currentCatalog() } catch {
                send(RPCEncoder.error(id: id, .internalError("Internal error: tools unavailable: \(error)")))
                return
            }
            scope = RequestScope(
                tenantID: tenant.tenantID, requestID: "stdio-\(id)", protocolVersion: ProtocolVersion.stateless, stateless: true,
                catalog: catalog, progressToken: meta?[MetaKey.progressToken], logLevel: logLevel, deadline: nil, session: nil,
                emit: send, logger: logger)
        } else if method == "initialize" {
            guard let requested = params["protocolVersion"]?.stringValue else {
                send(RPCEncoder.error(id: id, .invalidParams("Invalid params: initialize needs a string \"protocolVersion\"")))
                return
            }
            let catalog: ToolCatalog
            do { catalog = try await tenant.currentCatalog() } catch {
                send(RPCEncoder.error(id: id, .internalError("Internal error: tools unavailable: \(error)")))
                return
            }
            let (version, result) = server.initializeResult(requested: requested)
            let session = Session(
                id: Session.newID(), tenantID: tenant.tenantID, protocolVersion: version, clientInfo: params["clientInfo"],
                catalog: catalog)
            state.withLockedValue { $0.session = session }
            send(RPCEncoder.result(id: id, result))
            return
        } else {
            guard let session = state.withLockedValue({ $0.session }) else {
                if method == "ping" {
                    send(RPCEncoder.result(id: id, [:]))
                } else {
                    send(RPCEncoder.error(id: id, RPCError(RPCErrorCode.invalidRequest, "Invalid Request: send initialize first (or _meta for \(ProtocolVersion.stateless))")))
                }
                return
            }
            scope = RequestScope(
                tenantID: tenant.tenantID, requestID: "stdio-\(id)", protocolVersion: session.protocolVersion, stateless: false,
                catalog: session.catalog, progressToken: meta?[MetaKey.progressToken], logLevel: nil, deadline: nil,
                session: session, emit: send, logger: logger)
        }
        let server = self.server
        let send = self.send
        let finalScope = scope
        // Registered under the lock the task needs to unregister itself, so it cannot finish first.
        state.withLockedValue { state in
            state.inFlight[id] = Task {
                do throws(RPCError) {
                    send(RPCEncoder.result(id: id, try await server.dispatch(method: method, params: params, scope: finalScope)))
                } catch where error.code != RPCErrorCode.requestCancelled {
                    send(RPCEncoder.error(id: id, error))
                } catch {
                    // Cancelled by the client: not answered, as the spec asks.
                }
                _ = self.state.withLockedValue { $0.inFlight.removeValue(forKey: id) }
            }
        }
    }
}
