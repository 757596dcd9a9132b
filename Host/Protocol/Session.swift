import MCPJSON
import NIOConcurrencyHelpers

/// A 2025-x session: created by initialize, bound to one tenant and to the tool catalog that was
/// current when it started, ended by DELETE or idle expiry.
public final class Session: Sendable {
    public let id: String
    public let tenantID: String
    public let protocolVersion: String
    public let clientInfo: JSONValue?
    public let catalog: ToolCatalog

    private struct State {
        var logLevel: LogLevel?
        var lastActive: ContinuousClock.Instant
        var streams: [Int: EventStream] = [:]
        var nextStream = 1
        var inFlight: [JSONValue: @Sendable () -> Void] = [:]
        var closed = false
    }
    private let state: NIOLockedValueBox<State>
    /// The server→client stream clients open with GET.
    let standaloneStream = EventStream(index: 0)
    private static let maxStreams = 64

    init(id: String, tenantID: String, protocolVersion: String, clientInfo: JSONValue?, catalog: ToolCatalog) {
        self.id = id
        self.tenantID = tenantID
        self.protocolVersion = protocolVersion
        self.clientInfo = clientInfo
        self.catalog = catalog
        state = NIOLockedValueBox(State(lastActive: .now))
    }

    /// A new cryptographically random id: 128 bits from the system CSPRNG, hex (ASCII 0x21–0x7E).
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        func hex(_ value: UInt64) -> String {
            let s = String(value, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(high) + hex(low)
    }

    var logLevel: LogLevel? {
        get { state.withLockedValue { $0.logLevel } }
        set { state.withLockedValue { $0.logLevel = newValue } }
    }


    func touch() { state.withLockedValue { $0.lastActive = .now } }
    var lastActive: ContinuousClock.Instant { state.withLockedValue { $0.lastActive } }
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// A stream for the answer to one POST. Old finished streams are forgotten beyond a bound.
    func newStream() -> EventStream {
        state.withLockedValue { state in
            let stream = EventStream(index: state.nextStream)
            state.nextStream += 1
            state.streams[stream.index] = stream
            if state.streams.count > Self.maxStreams {
                let finished = state.streams.values.filter(\.isFinished).map(\.index).sorted()
                for index in finished.prefix(state.streams.count - Self.maxStreams) { state.streams[index] = nil }
            }
            return stream
        }
    }

    func stream(index: Int) -> EventStream? {
        if index == 0 { return standaloneStream }
        return state.withLockedValue { $0.streams[index] }
    }

    /// Tracks a running request so `notifications/cancelled` can stop it.
    func register(request id: JSONValue, cancel: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.inFlight[id] = cancel }
    }

    func unregister(request id: JSONValue) {
        _ = state.withLockedValue { $0.inFlight.removeValue(forKey: id) }
    }

    /// Cancels the request `id` if it is running.
    func cancel(request id: JSONValue) {
        let cancel = state.withLockedValue { $0.inFlight[id] }
        cancel?()
    }

    /// Ends the session: running requests are cancelled, streams end.
    func close() {
        let (cancels, streams) = state.withLockedValue { state -> ([@Sendable () -> Void], [EventStream]) in
            state.closed = true
            defer { state.inFlight = [:]; state.streams = [:] }
            return (Array(state.inFlight.values), Array(state.streams.values))
        }
        cancels.forEach { $0() }
        streams.forEach { $0.finish() }
        standaloneStream.finish()
    }
}

/// Where sessions live. The in-memory store serves one process; a shared store (PostgreSQL) lets
/// several host instances serve one endpoint.
public protocol SessionStore: Sendable {
    /// Adds a session, or throws when the store is full.
    func insert(_ session: Session) throws(SessionStoreError)
    /// The live session with this id (marking it active), or nil when unknown, ended or expired.
    func session(id: String) -> Session?
    /// Removes and closes a session. Returns whether it existed.
    @discardableResult func remove(id: String) -> Bool
    /// Closes sessions idle for longer than `idleTimeout`. Returns how many.
    @discardableResult func expire(idleTimeout: Duration) -> Int
    var count: Int { get }
}

public struct SessionStoreError: Error, CustomStringConvertible {
    public var description: String
}

public final class InMemorySessionStore: SessionStore {
    private let sessions = NIOLockedValueBox<[String: Session]>([:])
    private let maxSessions: Int

    private let idleTimeout: Duration

    public init(maxSessions: Int = 10_000, idleTimeout: Duration = .seconds(1800)) {
        self.maxSessions = maxSessions
        self.idleTimeout = idleTimeout
    }

    public func insert(_ session: Session) throws(SessionStoreError) {
        let inserted = sessions.withLockedValue { sessions -> Bool in
            guard sessions.count < maxSessions else { return false }
            sessions[session.id] = session
            return true
        }
        if !inserted { throw SessionStoreError(description: "too many sessions (limit \(maxSessions))") }
    }

    public func session(id: String) -> Session? {
        guard let session = sessions.withLockedValue({ $0[id] }), !session.isClosed else { return nil }
        // Expired but not yet swept: ended now, exactly at the configured idle time.
        if ContinuousClock.now - session.lastActive > idleTimeout {
            remove(id: id)
            return nil
        }
        session.touch()
        return session
    }

    @discardableResult public func remove(id: String) -> Bool {
        guard let session = sessions.withLockedValue({ $0.removeValue(forKey: id) }) else { return false }
        session.close()
        return true
    }

    @discardableResult public func expire(idleTimeout: Duration) -> Int {
        let now = ContinuousClock.now
        let expired = sessions.withLockedValue { sessions -> [Session] in
            let old = sessions.values.filter { now - $0.lastActive > idleTimeout }
            for session in old { sessions[session.id] = nil }
            return old
        }
        expired.forEach { $0.close() }
        return expired.count
    }

    public var count: Int { sessions.withLockedValue { $0.count } }
}
