import AsyncHTTPClient
import CMCPPlugin
import Foundation
import Logging
import MCPJSON
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// What one plugin instance may do through the host: who it is (for logs) and where it may
/// connect. Handed to the plugin as the opaque `instance_token`.
public final class InstanceToken: Sendable {
    public let pluginName: String
    public let tenantID: String
    /// Hosts (exact, or `*.suffix`) this instance may reach; `nil` means unrestricted.
    public let egressAllowList: [String]?
    let logger: Logger

    public init(pluginName: String, tenantID: String, egressAllowList: [String]?, logger: Logger) {
        self.pluginName = pluginName
        self.tenantID = tenantID
        self.egressAllowList = egressAllowList?.map { $0.lowercased() }
        var logger = logger
        logger[metadataKey: "plugin"] = .string(pluginName)
        logger[metadataKey: "tenant"] = .string(tenantID)
        self.logger = logger
    }

    /// Whether `host` is allowed by the egress list.
    public func mayReach(host: String) -> Bool {
        guard let list = egressAllowList else { return true }
        let host = host.lowercased()
        return list.contains { entry in
            if entry.hasPrefix("*.") { return host.hasSuffix(entry.dropFirst(1)) }
            return entry == host
        }
    }
}

/// The services table (`mcp_host_services`) every plugin receives at init: logging, clocks and
/// an asynchronous HTTP client, so plugins embed no HTTP stack or event loop of their own.
public final class HostServices: @unchecked Sendable {
    // @unchecked: `table` is written once in init and only read afterwards (by plugins, from any
    // thread); everything else is immutable or behind its own lock.
    /// Caps applied to every outbound request whatever the plugin asks for.
    public struct Limits: Sendable {
        public var maxTimeout: TimeAmount = .seconds(60)
        public var maxResponseBytes = 64 << 20
        public init() {}
    }

    let table: UnsafeMutablePointer<mcp_host_services>
    let httpClient: HTTPClient
    let logger: Logger
    let limits: Limits
    private let requests = NIOLockedValueBox<(next: UInt64, tasks: [UInt64: Task<Void, Never>])>((1, [:]))

    public init(httpClient: HTTPClient, logger: Logger, limits: Limits = Limits()) {
        self.httpClient = httpClient
        self.logger = logger
        self.limits = limits
        table = .allocate(capacity: 1)
        table.initialize(
            to: mcp_host_services(
                abi_version: MCP_PLUGIN_ABI_VERSION,
                struct_size: UInt32(MemoryLayout<mcp_host_services>.size),
                host_context: nil,
                log: hostLog,
                now_unix_ms: hostNowUnixMs,
                monotonic_ns: hostMonotonicNs,
                http_request: hostHTTPRequest,
                http_cancel: hostHTTPCancel))
        // The table lives as long as the process: plugins keep the pointer.
        table.pointee.host_context = Unmanaged.passRetained(self).toOpaque()
    }

    func log(token: InstanceToken?, level: mcp_log_level, message: String) {
        let logger = token?.logger ?? self.logger
        let swiftLevel: Logger.Level
        switch level {
        case MCP_LOG_DEBUG: swiftLevel = .debug
        case MCP_LOG_INFO: swiftLevel = .info
        case MCP_LOG_NOTICE: swiftLevel = .notice
        case MCP_LOG_WARNING: swiftLevel = .warning
        case MCP_LOG_ERROR: swiftLevel = .error
        default: swiftLevel = .critical
        }
        logger.log(level: swiftLevel, "\(message)", metadata: ["source": "plugin"])
    }

    /// Starts an outbound request for a plugin. Returns its id.
    func startRequest(
        token: InstanceToken?, requestJSON: [UInt8], body: [UInt8],
        complete: @escaping @Sendable (_ status: Int32, _ head: [UInt8], _ body: [UInt8], _ error: String) -> Void
    ) -> UInt64 {
        let parsed: OutboundRequest
        do { parsed = try OutboundRequest(json: requestJSON, body: body, token: token, limits: limits) } catch {
            complete(0, [], [], "\(error)")
            return 0
        }
        let id = requests.withLockedValue { state -> UInt64 in
            defer { state.next += 1 }
            return state.next
        }
        let client = httpClient
        let logger = token?.logger ?? self.logger
        let task = Task {
            defer { _ = self.requests.withLockedValue { $0.tasks.removeValue(forKey: id) } }
            do {
                let response = try await client.execute(parsed.request, timeout: parsed.timeout)
                let bytes = try await response.body.collect(upTo: parsed.maxResponseBytes)
                var headers: [JSONValue] = []
                for header in response.headers { headers.append([.string(header.name.lowercased()), .string(header.value)]) }
                let head: JSONValue = ["headers": .array(headers)]
                logger.debug(
                    "outbound request",
                    metadata: ["method": "\(parsed.request.method.rawValue)", "host": "\(parsed.host)", "status": "\(response.status.code)"])
                complete(Int32(response.status.code), head.serialized(), Array(buffer: bytes), "")
            } catch is CancellationError {
                complete(0, [], [], "cancelled")
            } catch let error as HTTPClientError where error == .deadlineExceeded {
                complete(0, [], [], "timeout after \(parsed.timeout.nanoseconds / 1_000_000) ms")
            } catch let error as NIOTooManyBytesError {
                _ = error
                complete(0, [], [], "response larger than \(parsed.maxResponseBytes) bytes")
            } catch {
                complete(0, [], [], "request to \(parsed.host) failed: \(error)")
            }
        }
        requests.withLockedValue { $0.tasks[id] = task }
        return id
    }

    func cancelRequest(_ id: UInt64) {
        requests.withLockedValue { $0.tasks[id] }?.cancel()
    }
}

/// A plugin's outbound request, parsed and checked against the instance's egress policy.
struct OutboundRequest {
    var request: HTTPClientRequest
    var host: String
    var timeout: TimeAmount
    var maxResponseBytes: Int

    struct Refused: Error, CustomStringConvertible { var description: String }

    init(json: [UInt8], body: [UInt8], token: InstanceToken?, limits: HostServices.Limits) throws {
        let value = try JSONValue.parse(json)
        guard let urlString = value["url"]?.stringValue, let url = URL(string: urlString),
            let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { throw Refused(description: "invalid request: \"url\" must be an absolute http or https URL") }
        if let token, !token.mayReach(host: host) {
            throw Refused(description: "egress denied: host \(host) is not in this tenant's allow-list")
        }
        var request = HTTPClientRequest(url: urlString)
        request.method = HTTPMethod(rawValue: (value["method"]?.stringValue ?? "GET").uppercased())
        for header in value["headers"]?.arrayValue ?? [] {
            guard let pair = header.arrayValue, pair.count == 2, let name = pair[0].stringValue, let headerValue = pair[1].stringValue
            else { throw Refused(description: "invalid request: headers must be [[name, value], ...]") }
            request.headers.add(name: name, value: headerValue)
        }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        self.request = request
        self.host = host
        let requested = value["timeout_ms"]?.intValue.map { TimeAmount.milliseconds($0) } ?? limits.maxTimeout
        timeout = min(max(requested, .milliseconds(1)), limits.maxTimeout)
        maxResponseBytes = min(Int(value["max_response_bytes"]?.intValue ?? Int64(limits.maxResponseBytes)), limits.maxResponseBytes)
    }
}

// MARK: - C entry points of the services table

private func services(_ context: UnsafeMutableRawPointer?) -> HostServices {
    Unmanaged<HostServices>.fromOpaque(context!).takeUnretainedValue()
}

private func token(_ pointer: UnsafeMutableRawPointer?) -> InstanceToken? {
    pointer.map { Unmanaged<InstanceToken>.fromOpaque($0).takeUnretainedValue() }
}

private func hostLog(
    _ context: UnsafeMutableRawPointer?, _ instance: UnsafeMutableRawPointer?, _ level: mcp_log_level,
    _ message: UnsafePointer<UInt8>?, _ length: Int
) {
    guard let message else { return }
    let text = String(decoding: UnsafeBufferPointer(start: message, count: length), as: UTF8.self)
    services(context).log(token: token(instance), level: level, message: text)
}

private func hostNowUnixMs(_ context: UnsafeMutableRawPointer?) -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

private func hostMonotonicNs(_ context: UnsafeMutableRawPointer?) -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

private struct UnsafeSendable<T>: @unchecked Sendable { let value: T }

private func hostHTTPRequest(
    _ context: UnsafeMutableRawPointer?, _ instance: UnsafeMutableRawPointer?, _ request: UnsafePointer<UInt8>?,
    _ requestLength: Int, _ body: UnsafePointer<UInt8>?, _ bodyLength: Int, _ completion: mcp_http_completion_fn?,
    _ userData: UnsafeMutableRawPointer?
) -> UInt64 {
    let requestBytes = request.map { Array(UnsafeBufferPointer(start: $0, count: requestLength)) } ?? []
    let bodyBytes = body.map { Array(UnsafeBufferPointer(start: $0, count: bodyLength)) } ?? []
    let callback = UnsafeSendable(value: (completion, userData))
    return services(context).startRequest(token: token(instance), requestJSON: requestBytes, body: bodyBytes) {
        status, head, responseBody, error in
        guard let completion = callback.value.0 else { return }
        let errorBytes = Array(error.utf8)
        head.withUnsafeBufferPointer { h in
            responseBody.withUnsafeBufferPointer { b in
                errorBytes.withUnsafeBufferPointer { e in
                    completion(callback.value.1, status, h.baseAddress, h.count, b.baseAddress, b.count, e.baseAddress, e.count)
                }
            }
        }
    }
}

private func hostHTTPCancel(_ context: UnsafeMutableRawPointer?, _ id: UInt64) {
    services(context).cancelRequest(id)
}
