internal import CMCPPlugin

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The host services table received in `init`. Each plugin `.so` embeds its own copy of the SDK
/// (loaded RTLD_LOCAL), so this global belongs to one plugin. Written once by `init`, which the
/// host runs before any other entry point; read-only afterwards.
nonisolated(unsafe) var hostServices: UnsafePointer<mcp_host_services>?

/// Log severities (RFC 5424, as MCP logging uses them).
public enum LogLevel: UInt32, Sendable, Hashable, CaseIterable {
    case debug = 0, info, notice, warning, error, critical, alert, emergency
}

/// The host, as seen by one plugin instance: logging, clocks, and outbound HTTP through the host's
/// client (which applies the tenant's egress allow-list, timeouts, size caps and metrics).
public struct PluginHost: Sendable {
    /// The instance token the host gave `create_instance` (as a bit pattern; 0 = none).
    let token: UInt

    init(token: UnsafeMutableRawPointer?) {
        self.token = UInt(bitPattern: token)
    }

    /// The host of this process as seen from outside any instance. In a plugin's unit tests (no
    /// host loaded the plugin) logging does nothing, the clocks are the system's and `http`
    /// throws `HostHTTPError`.
    public init() {
        token = 0
    }

    var tokenPointer: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: token) }

    /// Logs `message` through the host's logger (which adds plugin and tenant).
    public func log(_ level: LogLevel, _ message: String) {
        guard let services = hostServices, let log = services.pointee.log else { return }
        var message = message
        message.withUTF8 {
            log(services.pointee.host_context, tokenPointer, mcp_log_level(rawValue: level.rawValue), $0.baseAddress, $0.count)
        }
    }

    /// Wall-clock time in milliseconds since the Unix epoch, as the host sees it.
    public func nowUnixMilliseconds() -> Int64 {
        if let services = hostServices, let now = services.pointee.now_unix_ms {
            return now(services.pointee.host_context)
        }
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// Monotonic time in nanoseconds from an arbitrary origin (for measuring durations).
    public func monotonicNanoseconds() -> UInt64 {
        if let services = hostServices, let monotonic = services.pointee.monotonic_ns {
            return monotonic(services.pointee.host_context)
        }
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// Sends `request` through the host's HTTP client. Throws `HostHTTPError` when no response
    /// arrived (timeout, connection failure, egress denied, ...) and `CancellationError` when the
    /// calling task was cancelled (the host request is cancelled too). Any HTTP status is a
    /// response, not an error: check `response.status`.
    public func http(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let services = hostServices, let start = services.pointee.http_request else {
            throw HostHTTPError(message: "the host offers no HTTP service")
        }
        try Task.checkCancellation()
        // The host wants the timeout no longer than what is left of the tool call's deadline.
        var timeoutMilliseconds = request.timeoutMilliseconds
        if let deadline = CallScope.current?.fields.deadlineUnixMilliseconds {
            let remaining = deadline - nowUnixMilliseconds()
            guard remaining > 0 else { throw HostHTTPError(message: "the tool call's deadline has passed") }
            timeoutMilliseconds = min(timeoutMilliseconds, remaining)
        }
        let description = request.descriptionJSON(timeoutMilliseconds: timeoutMilliseconds)
        let exchange = HTTPExchange()
        let token = tokenPointer
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                guard exchange.begin(continuation) else { return }  // cancelled already; resumed by begin
                let userData = Unmanaged.passRetained(exchange).toOpaque()
                let id = description.withUnsafeBufferPointer { json in
                    request.body.withUnsafeBytes { body in
                        start(
                            services.pointee.host_context, token, json.baseAddress, json.count,
                            body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count, httpCompletion, userData)
                    }
                }
                exchange.started(id)
            }
        } onCancel: {
            exchange.cancel()
        }
    }
}

/// No HTTP response was received: `message` is the host's reason ("timeout", "connect: ...",
/// "egress denied: ..."). Thrown out of a tool, it becomes a tool error the model sees.
public struct HostHTTPError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "HTTP request failed: \(message)" }
}

/// An outbound HTTP request. The host decides whether the URL may be reached (the tenant's egress
/// allow-list): never build it from a URL the MCP client chose.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: HTTPHeaders
    public var body: Data
    /// Inside a tool call the SDK sends the smaller of this and what is left of the call's
    /// deadline; the host caps it further by its own maximum.
    public var timeout: Duration
    /// Larger responses fail instead of being buffered.
    public var maxResponseBytes: Int

    public init(
        method: String = "GET", url: String, headers: HTTPHeaders = [:], body: Data = Data(),
        timeout: Duration = .seconds(15), maxResponseBytes: Int = 16 << 20
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    var timeoutMilliseconds: Int64 {
        let (seconds, attoseconds) = timeout.components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// `{"method":…,"url":…,"headers":[[name,value],…],"timeout_ms":…,"max_response_bytes":…}`
    func descriptionJSON(timeoutMilliseconds: Int64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + url.utf8.count)
        JSONText.append(#"{"method":"#, to: &out)
        JSONText.appendString(method, to: &out)
        JSONText.append(#","url":"#, to: &out)
        JSONText.appendString(url, to: &out)
        JSONText.append(#","headers":["#, to: &out)
        for (index, field) in headers.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            JSONText.appendString(field.name, to: &out)
            out.append(UInt8(ascii: ","))
            JSONText.appendString(field.value, to: &out)
            out.append(UInt8(ascii: "]"))
        }
        JSONText.append(#"],"timeout_ms":"#, to: &out)
        out.append(contentsOf: String(timeoutMilliseconds).utf8)
        JSONText.append(#","max_response_bytes":"#, to: &out)
        out.append(contentsOf: String(max(0, maxResponseBytes)).utf8)
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// An HTTP response received through the host.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Lower-case names, in the order received.
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int, headers: HTTPHeaders = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Decodes the body as JSON. A mismatch throws a `ToolError` naming the field ("upstream
    /// response 'data.result': expected Array ..."), i.e. a bad upstream answer the model sees.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        do {
            return try sharedDecoder.decode(T.self, from: body)
        } catch let error as DecodingError {
            throw ToolError(describe(error, in: body, field: "upstream response field", whole: "upstream response (HTTP \(status))"))
        }
    }
}

/// HTTP header fields in order; lookups ignore case.
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    public init(_ pairs: [(String, String)] = []) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Replaces every field named `name` with one field.
    public mutating func replaceOrAdd(name: String, value: String) {
        fields.removeAll { Self.same($0.name, name) }
        fields.append(Field(name: name, value: value))
    }

    /// The first value of `name`.
    public subscript(name: String) -> String? {
        fields.first { Self.same($0.name, name) }?.value
    }

    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        fields.filter { Self.same($0.name, name) }.map(\.value)
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    private static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.lowercased() == b.lowercased()
    }
}

/// One in-flight host HTTP request: resumes its continuation exactly once and forwards a
/// cancellation to the host whichever order cancellation, start and completion happen in.
final class HTTPExchange: Sendable {
    private struct State {
        var continuation: CheckedContinuation<HTTPResponse, any Error>?
        var requestID: UInt64 = 0
        var cancelled = false
        var finished = false
    }
    private let state = Locked(State())

    /// Stores the continuation; false (and resumes it with CancellationError) when already cancelled.
    func begin(_ continuation: CheckedContinuation<HTTPResponse, any Error>) -> Bool {
        let proceed = state.withLock { state -> Bool in
            if state.cancelled {
                state.finished = true
                return false
            }
            state.continuation = continuation
            return true
        }
        if !proceed { continuation.resume(throwing: CancellationError()) }
        return proceed
    }

    func started(_ id: UInt64) {
        let cancelNow = state.withLock { state -> Bool in
            state.requestID = id
            return state.cancelled && !state.finished && id != 0
        }
        if cancelNow { hostCancel(id) }
    }

    func cancel() {
        let id = state.withLock { state -> UInt64 in
            state.cancelled = true
            return state.finished ? 0 : state.requestID
        }
        if id != 0 { hostCancel(id) }
    }

    func finish(_ result: Result<HTTPResponse, HostHTTPError>) {
        let (continuation, cancelled) = state.withLock { state in
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.cancelled)
        }
        guard let continuation else { return }
        switch result {
        case .success(let response): continuation.resume(returning: response)
        case .failure where cancelled: continuation.resume(throwing: CancellationError())
        case .failure(let error): continuation.resume(throwing: error)
        }
    }

    private func hostCancel(_ id: UInt64) {
        guard let services = hostServices, let cancel = services.pointee.http_cancel else { return }
        cancel(services.pointee.host_context, id)
    }
}

private struct ResponseHead: Decodable {
    var headers: [[String]]?
}

private let httpCompletion: mcp_http_completion_fn = { userData, status, head, headLength, body, bodyLength, error, errorLength in
    guard let userData else { return }
    let exchange = Unmanaged<HTTPExchange>.fromOpaque(userData).takeRetainedValue()
    guard status != 0 else {
        let message = error.map { String(decoding: UnsafeBufferPointer(start: $0, count: errorLength), as: UTF8.self) } ?? ""
        exchange.finish(.failure(HostHTTPError(message: message.isEmpty ? "no response" : message)))
        return
    }
    var headers = HTTPHeaders()
    if let head, headLength > 0,
        let parsed = try? sharedDecoder.decode(ResponseHead.self, from: Data(bytes: head, count: headLength))
    {
        for pair in parsed.headers ?? [] where pair.count == 2 {
            headers.add(name: pair[0], value: pair[1])
        }
    }
    let data = body.map { Data(bytes: $0, count: bodyLength) } ?? Data()
    exchange.finish(.success(HTTPResponse(status: Int(status), headers: headers, body: data)))
}
