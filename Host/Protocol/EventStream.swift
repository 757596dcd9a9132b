import NIOConcurrencyHelpers

/// Server-Sent Events framing.
enum SSE {
    static func frame(_ message: [UInt8], id: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 40)
        out.append(contentsOf: "event: message\n".utf8)
        if let id { out.append(contentsOf: "id: \(id)\n".utf8) }
        out.append(contentsOf: "data: ".utf8)
        out.append(contentsOf: message)
        out.append(contentsOf: "\n\n".utf8)
        return out
    }

    /// An event with an id and no data: lets a 2025-11-25 client resume before the first message.
    static func priming(id: String, retryMilliseconds: Int) -> [UInt8] {
        Array("id: \(id)\nretry: \(retryMilliseconds)\ndata: \n\n".utf8)
    }

    static let keepAlive: [UInt8] = Array(": keep-alive\n\n".utf8)
}

/// One SSE stream of a session (the GET stream, or the stream answering one POST), with the
/// events it carried kept for `Last-Event-ID` replay. Event ids are `<stream>/<sequence>`:
/// unique within the session and naming the stream they belong to, so a resume replays only it.
final class EventStream: Sendable {
    let index: Int
    private let capacity: Int
    private struct State {
        var events: [(sequence: Int, frame: [UInt8])] = []
        var nextSequence = 1
        var finished = false
        var subscriber: AsyncStream<[UInt8]>.Continuation?
    }
    private let state = NIOLockedValueBox(State())

    init(index: Int, capacity: Int = 512) {
        self.index = index
        self.capacity = capacity
    }

    /// Parses `<stream>/<sequence>`.
    static func parse(eventID: String) -> (stream: Int, sequence: Int)? {
        let parts = eventID.split(separator: "/")
        guard parts.count == 2, let stream = Int(parts[0]), let sequence = Int(parts[1]) else { return nil }
        return (stream, sequence)
    }

    /// Records and delivers one JSON-RPC message.
    func send(_ message: [UInt8]) {
        let subscriber = state.withLockedValue { state -> AsyncStream<[UInt8]>.Continuation? in
            guard !state.finished else { return nil }
            let sequence = state.nextSequence
            state.nextSequence += 1
            let frame = SSE.frame(message, id: "\(index)/\(sequence)")
            state.events.append((sequence, frame))
            if state.events.count > capacity { state.events.removeFirst(state.events.count - capacity) }
            state.subscriber?.yield(frame)
            return nil
        }
        _ = subscriber
    }

    /// Sends a priming event (id, no data) so the client can resume even before the first message.
    func prime(retryMilliseconds: Int) {
        state.withLockedValue { state in
            let sequence = state.nextSequence
            state.nextSequence += 1
            let frame = SSE.priming(id: "\(index)/\(sequence)", retryMilliseconds: retryMilliseconds)
            state.events.append((sequence, frame))
            state.subscriber?.yield(frame)
        }
    }

    /// Ends the stream: the subscriber's body completes after the events already sent.
    func finish() {
        state.withLockedValue { state in
            state.finished = true
            state.subscriber?.finish()
            state.subscriber = nil
        }
    }

    var isFinished: Bool { state.withLockedValue { $0.finished } }

    /// A body delivering the events after `sequence`, then the live ones. A new subscriber
    /// replaces the previous one (whose body ends).
    func subscribe(after sequence: Int, keepAlive: Duration? = nil) -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        state.withLockedValue { state in
            state.subscriber?.finish()
            for event in state.events where event.sequence > sequence { continuation.yield(event.frame) }
            if state.finished {
                continuation.finish()
            } else {
                state.subscriber = continuation
            }
        }
        if let keepAlive {
            let beat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: keepAlive)
                    if case .terminated = continuation.yield(SSE.keepAlive) { return }
                }
            }
            continuation.onTermination = { _ in beat.cancel() }
        }
        return stream
    }

    /// Drops the subscriber (its client went away); events keep being recorded for a resume.
    func detach() {
        state.withLockedValue { state in
            state.subscriber?.finish()
            state.subscriber = nil
        }
    }
}
