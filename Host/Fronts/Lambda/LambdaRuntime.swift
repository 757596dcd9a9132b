import Logging
import MCPHostCore
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// The Lambda front: the Runtime API loop. Each invocation's event becomes a `HostRequest` for the
/// same handler the HTTP front calls; the `HostResponse` goes back buffered, or streamed with the
/// Function URL prelude. It knows nothing about MCP.
public final class LambdaRuntime: Sendable {
    public enum ResponseMode: String, Sendable, CaseIterable {
        /// Function URL events are answered streamed (the function's URL uses InvokeMode
        /// RESPONSE_STREAM), API Gateway events buffered.
        case auto
        /// Every answer buffered (a Function URL with InvokeMode BUFFERED).
        case buffered
        /// Every answer streamed.
        case streaming
    }

    public struct Settings: Sendable {
        public var responseMode: ResponseMode = .auto
        /// Buffered payload limit (Lambda's is 6 MB).
        public var maxBufferedPayloadBytes = LambdaEventCodec.maxBufferedPayloadBytes
        /// The request's own deadline (what bounds tool calls) is this much before Lambda's, so
        /// the answer — a "deadline exceeded" tool error, say — still gets out in time.
        public var answerMargin: Duration = .milliseconds(200)
        /// When the handler has not answered this close to Lambda's deadline, the runtime gives up
        /// on it and reports an invocation error.
        public var cutoffMargin: Duration = .milliseconds(20)
        public init() {}
    }

    let client: LambdaRuntimeClient
    let handler: HostRequestHandler
    let settings: Settings
    let logger: Logger

    public init(client: LambdaRuntimeClient, handler: HostRequestHandler, settings: Settings = Settings(), logger: Logger) {
        self.client = client
        self.handler = handler
        self.settings = settings
        self.logger = logger
    }

    /// Serves invocations until the task is cancelled or the Runtime API fails (connection lost,
    /// a 5xx): that error is thrown and the process should exit.
    /// `afterInvocation` runs between invocations (housekeeping).
    public func run(afterInvocation: @Sendable () -> Void = {}) async throws {
        while !Task.isCancelled {
            let invocation = try await client.next()
            try await process(invocation)
            afterInvocation()
        }
    }

    /// Reports an initialisation failure through `init/error`.
    public static func reportInitError(
        _ error: LambdaErrorReport, client: LambdaRuntimeClient, logger: Logger
    ) async {
        logger.critical("initialisation failed", metadata: ["error_type": "\(error.errorType)", "error": "\(error.errorMessage)"])
        do {
            try await client.initError(error)
        } catch {
            logger.error("could not report the initialisation failure", metadata: ["error": "\(error)"])
        }
    }

    // MARK: one invocation

    /// Handles one invocation end to end. Throws only for Runtime API failures that must end the
    /// runtime; everything about the invocation itself is answered or reported.
    public func process(_ invocation: LambdaInvocation) async throws {
        let started = ContinuousClock.now
        let (cutoff, requestDeadline) = deadlines(invocation.deadlineUnixMs, now: started)
        var logger = self.logger
        logger[metadataKey: "request_id"] = "\(invocation.requestID)"

        let event: LambdaHTTPEvent
        do {
            event = try LambdaEventCodec.decode(invocation.event, requestID: invocation.requestID, deadline: requestDeadline)
        } catch {
            switch error {
            case .unsupported(let message):
                logger.warning("event refused", metadata: ["error": "\(message)"])
                try await report(invocation, LambdaErrorReport(errorType: "Runtime.UnsupportedEvent", errorMessage: message), logger)
            case .badRequest(let format, let message):
                logger.info("bad event", metadata: ["error": "\(message)"])
                let response = HostResponse.error(400, message)
                try await answer(invocation, response: response, format: format, cutoff: cutoff, logger: logger)
            }
            return
        }

        let response: HostResponse
        let handler = self.handler
        let request = event.request
        let work = Task { await handler.handle(request) }
        guard let answered = await Self.value(of: work, before: cutoff) else {
            work.cancel()
            logger.error("deadline exceeded", metadata: ["elapsed_ms": "\(Self.milliseconds(ContinuousClock.now - started))"])
            try await report(
                invocation,
                LambdaErrorReport(
                    errorType: "Runtime.DeadlineExceeded",
                    errorMessage: "no answer before the invocation deadline (\(Self.milliseconds(ContinuousClock.now - started)) ms)"),
                logger)
            return
        }
        response = answered
        try await answer(invocation, response: response, format: event.format, cutoff: cutoff, logger: logger)
        logger.debug(
            "invocation answered",
            metadata: ["status": "\(response.status)", "elapsed_ms": "\(Self.milliseconds(ContinuousClock.now - started))"])
    }

    /// Lambda's deadline minus the margins: when the runtime gives up, and the request's deadline.
    func deadlines(_ deadlineUnixMs: Int64?, now: ContinuousClock.Instant) -> (ContinuousClock.Instant?, ContinuousClock.Instant?) {
        guard let deadlineUnixMs else { return (nil, nil) }
        let remaining = Duration.milliseconds(deadlineUnixMs - Self.unixMilliseconds())
        // With little time left the margins shrink (never below zero time for the handler).
        let cutoffMargin = min(settings.cutoffMargin, remaining / 10)
        let answerMargin = min(settings.answerMargin, remaining / 4)
        let cutoff = now + max(remaining - cutoffMargin, .zero)
        let requestDeadline = now + max(remaining - answerMargin, .zero)
        return (cutoff, requestDeadline)
    }

    private func shouldStream(_ format: LambdaEventFormat) -> Bool {
        switch settings.responseMode {
        case .buffered: return false
        case .streaming: return true
        case .auto: return format == .httpV2(functionURL: true)
        }
    }

    private func answer(
        _ invocation: LambdaInvocation, response: HostResponse, format: LambdaEventFormat, cutoff: ContinuousClock.Instant?,
        logger: Logger
    ) async throws {
        if shouldStream(format) {
            try await stream(invocation, response: response, cutoff: cutoff, logger: logger)
            return
        }
        let body: [UInt8]
        switch response.body {
        case .empty: body = []
        case .bytes(let bytes): body = bytes
        case .stream(let stream):
            // A buffered integration cannot stream: collect the whole stream (it ends when the
            // answer is complete), bounded by the deadline and the payload limit.
            var collected: [UInt8] = []
            var outcome = StreamOutcome.finished
            for await item in Self.chunks(of: stream, until: cutoff) {
                switch item {
                case .chunk(let chunk):
                    collected.append(contentsOf: chunk)
                    if collected.count > settings.maxBufferedPayloadBytes { outcome = .tooLarge }
                case .timedOut: outcome = .timedOut
                }
                if outcome != .finished { break }
            }
            if outcome != .finished { stream.clientGone() }
            if outcome == .timedOut {
                logger.error("deadline exceeded while collecting a streamed answer")
                try await report(
                    invocation,
                    LambdaErrorReport(errorType: "Runtime.DeadlineExceeded", errorMessage: "the streamed answer did not end before the invocation deadline"),
                    logger)
                return
            }
            body = collected
        }
        let payload = LambdaEventCodec.bufferedPayload(
            status: response.status, headers: response.headers, body: body, format: format, limit: settings.maxBufferedPayloadBytes)
        do {
            try await client.respond(requestID: invocation.requestID, payload: payload)
        } catch let error as LambdaRuntimeClientError where !error.isFatal {
            logger.error("response refused", metadata: ["error": "\(error)"])
            try await report(invocation, LambdaErrorReport(errorType: "Runtime.ResponseRefused", errorMessage: error.description), logger)
        }
    }

    private func stream(
        _ invocation: LambdaInvocation, response: HostResponse, cutoff: ContinuousClock.Instant?, logger: Logger
    ) async throws {
        let writer = try await client.streamResponse(
            requestID: invocation.requestID, contentType: LambdaEventCodec.streamingContentType)
        try await writer.write(LambdaEventCodec.streamingPrelude(status: response.status, headers: response.headers))
        switch response.body {
        case .empty: break
        case .bytes(let bytes): try await writer.write(bytes)
        case .stream(let stream):
            var timedOut = false
            do {
                for await item in Self.chunks(of: stream, until: cutoff) {
                    switch item {
                    case .chunk(let chunk): try await writer.write(chunk)
                    case .timedOut: timedOut = true
                    }
                    if timedOut { break }
                }
            } catch {
                stream.clientGone()
                throw error
            }
            if timedOut {
                stream.clientGone()
                logger.error("deadline exceeded while streaming the answer")
                try await writer.fail(
                    LambdaErrorReport(errorType: "Runtime.DeadlineExceeded", errorMessage: "the streamed answer did not end before the invocation deadline"))
                return
            }
        }
        try await writer.finish()
    }

    private func report(_ invocation: LambdaInvocation, _ error: LambdaErrorReport, _ logger: Logger) async throws {
        do {
            try await client.error(requestID: invocation.requestID, error)
        } catch let failure as LambdaRuntimeClientError where !failure.isFatal {
            logger.error("invocation error refused", metadata: ["error": "\(failure)"])
        }
    }

    // MARK: racing the deadline

    enum StreamOutcome { case finished, timedOut, tooLarge }
    enum StreamItem: Sendable {
        case chunk([UInt8])
        case timedOut
    }

    /// The chunks of `stream`, then `.timedOut` if `cutoff` passes before the stream ends.
    static func chunks(of stream: HostResponseStream, until cutoff: ContinuousClock.Instant?) -> AsyncStream<StreamItem> {
        AsyncStream { continuation in
            let pump = Task {
                for await chunk in stream.chunks { continuation.yield(.chunk(chunk)) }
                continuation.finish()
            }
            let watchdog = cutoff.map { cutoff in
                Task {
                    guard (try? await Task.sleep(until: cutoff, clock: .continuous)) != nil else { return }
                    continuation.yield(.timedOut)
                    continuation.finish()
                }
            }
            continuation.onTermination = { _ in
                pump.cancel()
                watchdog?.cancel()
            }
        }
    }

    /// The task's value if it finishes before `cutoff`; nil otherwise (the task keeps running
    /// until it notices its cancellation — a handler that ignores it cannot hold up the loop).
    static func value<T: Sendable>(of task: Task<T, Never>, before cutoff: ContinuousClock.Instant?) async -> T? {
        guard let cutoff else { return await task.value }
        let once = NIOLockedValueBox(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            let resume: @Sendable (T?) -> Void = { value in
                let first = once.withLockedValue { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            let timer = Task {
                guard (try? await Task.sleep(until: cutoff, clock: .continuous)) != nil else { return }
                resume(nil)
            }
            Task {
                let value = await task.value
                timer.cancel()
                resume(value)
            }
        }
    }

    static func unixMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
