import MCPJSON

/// Header list with case-insensitive lookup. Order and repetition are kept as received.
public struct HostHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(name: String, value: String)]

    public init() { entries = [] }
    public init(_ entries: [(name: String, value: String)]) { self.entries = entries }
    public init(dictionaryLiteral elements: (String, String)...) { entries = elements.map { ($0.0, $0.1) } }

    /// The first value of `name`, compared case-insensitively (ASCII, without allocating).
    // The lookups walk `entries` by index: `for entry in entries` copied each entry out, retaining
    // its name and value (~100 retain/release pairs of a tools/call's ~10 header lookups).
    public subscript(name: String) -> String? {
        for index in entries.indices where Self.equalsIgnoringASCIICase(entries[index].name, name) {
            return entries[index].value
        }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        entries.indices.filter { Self.equalsIgnoringASCIICase(entries[$0].name, name) }.map { entries[$0].value }
    }

    /// The first value of `name` and how many times it appears, in one pass (no allocation).
    public func firstValueAndCount(of name: String) -> (value: String?, count: Int) {
        var first: String?
        var count = 0
        for index in entries.indices where Self.equalsIgnoringASCIICase(entries[index].name, name) {
            if count == 0 { first = entries[index].value }
            count += 1
        }
        return (first, count)
    }

    /// How many times `name` appears (no allocation).
    public func count(of name: String) -> Int {
        var count = 0
        for index in entries.indices where Self.equalsIgnoringASCIICase(entries[index].name, name) { count += 1 }
        return count
    }

    /// Header names are ASCII tokens; folding A-Z is enough and needs no new strings.
    @inlinable
    public static func equalsIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let same = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in Self.equalsIgnoringASCIICase(x, y) }
        }
        return (same ?? nil) ?? Self.equalsIgnoringASCIICase(Array(a.utf8)[...], Array(b.utf8)[...])
    }

    @inlinable @usableFromInline
    static func equalsIgnoringASCIICase<Bytes: RandomAccessCollection<UInt8>>(_ x: Bytes, _ y: Bytes) -> Bool
    where Bytes.Index == Int {
        guard x.count == y.count else { return false }
        var i = x.startIndex, j = y.startIndex
        while i < x.endIndex {
            let (p, q) = (x[i], y[j])
            if p != q {
                let lower = p | 0x20
                if lower != q | 0x20 || lower < UInt8(ascii: "a") || lower > UInt8(ascii: "z") { return false }
            }
            i += 1
            j += 1
        }
        return true
    }

    public mutating func add(_ name: String, _ value: String) { entries.append((name, value)) }

    /// Replaces every value of `name` with one.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        entries.append((name, value))
    }

    public mutating func remove(_ name: String) {
        entries.removeAll { Self.equalsIgnoringASCIICase($0.name, name) }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { entries.makeIterator() }
}

/// One request as every front hands it in: an HTTP request, a Lambda event or a stdio line all
/// become this. Nothing below the front knows which front it came from.
public struct HostRequest: Sendable {
    public var method: String
    /// Path without the query string.
    public var path: String
    /// Raw query string without `?`, if any. Never consulted for credentials.
    public var query: String?
    public var headers: HostHeaders
    public var body: [UInt8]
    /// Correlates every log line of this request.
    public var requestID: String
    /// The latest moment the caller waits for an answer (a Lambda invocation's deadline, say).
    public var deadline: ContinuousClock.Instant?

    public init(
        method: String, path: String, query: String? = nil, headers: HostHeaders = HostHeaders(),
        body: [UInt8] = [], requestID: String = RequestID.next(), deadline: ContinuousClock.Instant? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.requestID = requestID
        self.deadline = deadline
    }
}

/// A response body: nothing, a buffer, or a stream of chunks (Server-Sent Events).
public enum HostResponseBody: Sendable {
    case empty
    case bytes([UInt8])
    case stream(HostResponseStream)
}

/// A streamed body. The producer writes chunks and finishes; the front calls `clientGone()` if the
/// peer disconnects first, which the producer may treat as cancellation.
public final class HostResponseStream: Sendable {
    public let chunks: AsyncStream<[UInt8]>
    private let onClientGone: @Sendable () -> Void

    public init(chunks: AsyncStream<[UInt8]>, onClientGone: @escaping @Sendable () -> Void) {
        self.chunks = chunks
        self.onClientGone = onClientGone
    }

    public func clientGone() { onClientGone() }
}

public struct HostResponse: Sendable {
    public var status: Int
    public var headers: HostHeaders
    public var body: HostResponseBody

    public init(status: Int, headers: HostHeaders = HostHeaders(), body: HostResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response with `content-type: application/json`.
    public static func json(_ status: Int, _ value: JSONValue, headers: HostHeaders = HostHeaders()) -> HostResponse {
        var headers = headers
        headers.set("content-type", "application/json")
        return HostResponse(status: status, headers: headers, body: .bytes(value.serialized()))
    }

    /// A JSON error body `{"error": message}` for failures outside JSON-RPC (gate, routing).
    public static func error(_ status: Int, _ message: String, headers: HostHeaders = HostHeaders()) -> HostResponse {
        json(status, ["error": .string(message)], headers: headers)
    }
}

/// Whatever turns a request into a response: the gate, a router, the protocol engine.
public protocol HostRequestHandler: Sendable {
    func handle(_ request: HostRequest) async -> HostResponse
}

/// Where the request path reports what it did (metrics). Called on every request: implementations
/// must be cheap and thread-safe, and label only by bounded values (never a credential).
public protocol HostMetricsRecorder: Sendable {
    /// One request through the gate: `tenant` is "-" when it was refused before a tenant was known.
    func recordRequest(tenant: String, status: Int, duration: Duration)
    /// One tools/call that reached a tool of the tenant's catalog.
    func recordToolCall(tenant: String, tool: String, outcome: ToolCallOutcome, duration: Duration)
}

/// How a tool call ended, for metrics.
public enum ToolCallOutcome: String, Sendable, Hashable {
    case ok
    case toolError = "tool_error"
    case invalidArguments = "invalid_arguments"
    case cancelled
    case deadlineExceeded = "deadline_exceeded"
    case internalError = "internal_error"
}
