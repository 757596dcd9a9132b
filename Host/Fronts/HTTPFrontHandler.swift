import Logging
import MCPHostCore
import NIOCore
import NIOHTTP1

/// Turns one HTTP exchange at a time into a `HostRequest` and writes the `HostResponse` as bytes
/// (`HTTPWire`). Requests a client pipelines behind one still being answered wait, in order, and
/// reading pauses until they are taken; a request that cannot be parsed gets a 400 and the
/// connection closes. A connection that makes no progress for `idleTimeout` — idle between requests,
/// or stalled while sending one — is closed (the stalled request is answered 408 first).
final class HTTPFrontHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// The body went over the limit: keep reading and dropping it, then answer 413.
        case discarding(HTTPRequestHead)
        case responding
        /// A `connection: close` answer went out; anything else the peer sends is dropped.
        case closing
    }

    private let handler: HostRequestHandler
    private let maxBodyBytes: Int
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private var state = State.idle
    /// Parts of requests that arrived while an earlier one was being answered.
    private var pipelined = CircularBuffer<HTTPServerRequestPart>(initialCapacity: 4)
    /// A `read()` held back while pipelined parts wait.
    private var readHeld = false
    private var draining = false
    /// Set while `Task.immediate` runs the handler synchronously inside `dispatch`.
    private var inline = InlineAnswer()
    /// Called when the connection closes during a streamed response.
    private var onClose: (() -> Void)?
    /// Request parts received so far: the watchdog's measure of progress.
    private var partsReceived = 0
    private var watchdog: Watchdog?

    init(handler: HostRequestHandler, maxBodyBytes: Int, idleTimeout: TimeAmount, logger: Logger) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    // MARK: idle connections

    /// Checks every half timeout whether the connection moved on; two checks in a row without
    /// progress (at least one full timeout) close it. A periodic check keeps the per-request path free
    /// of timers: rearming one for every request would cost a scheduled task each time.
    private struct Watchdog {
        var task: RepeatedTask
        var partsAtLastCheck = -1
        var stalledChecks = 0
    }

    func channelActive(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let interval = TimeAmount.nanoseconds(max(idleTimeout.nanoseconds / 2, 1_000_000))
        let task = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (this, context) = bound.value
            this.checkProgress(context: context)
        }
        watchdog = Watchdog(task: task)
        context.fireChannelActive()
    }

    private func checkProgress(context: ChannelHandlerContext) {
        guard var watchdog else { return }
        let waiting: Bool  // on the peer: for a request, or for the rest of one
        switch state {
        case .idle, .receiving, .discarding: waiting = true
        case .responding, .closing: waiting = false
        }
        if waiting && partsReceived == watchdog.partsAtLastCheck {
            watchdog.stalledChecks += 1
        } else {
            watchdog.stalledChecks = 0
        }
        watchdog.partsAtLastCheck = partsReceived
        self.watchdog = watchdog
        guard watchdog.stalledChecks >= 2 else { return }
        watchdog.task.cancel()
        self.watchdog = nil
        let seconds = idleTimeout.nanoseconds / 1_000_000_000
        switch state {
        case .receiving(let head, _), .discarding(let head):
            logger.debug("request stalled; answering 408", metadata: ["idle_timeout_s": "\(seconds)"])
            state = .responding
            write(
                context: context, head: head,
                response: .error(408, "the request was not received within \(seconds) s"), close: true)
        default:
            // Idle between requests (possibly with a request head still arriving): closing an idle
            // keep-alive connection needs no answer.
            state = .closing
            context.close(promise: nil)
        }
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        partsReceived &+= 1
        switch state {
        case .closing: return
        case .responding:
            pipelined.append(part)
            return
        case .idle, .receiving, .discarding:
            if !pipelined.isEmpty {
                pipelined.append(part)
                return
            }
        }
        receive(context: context, part)
    }

    private func receive(context: ChannelHandlerContext, _ part: HTTPServerRequestPart) {
        switch part {
        case .head(let head):
            let length = head.headers.first(name: "content-length").flatMap(Int.init)
            let expectsContinue = head.version != .http1_0
                && head.headers.first(name: "expect").map { HostHeaders.equalsIgnoringASCIICase($0, "100-continue") } == true
            if let length, length > maxBodyBytes {
                guard expectsContinue else {
                    state = .discarding(head)
                    return
                }
                // The client waits before sending the body: refuse it now, without reading it.
                state = .responding
                tooLarge(context: context, head: head)
            } else {
                if expectsContinue {
                    context.writeAndFlush(wrapOutboundOut(Self.staticBuffer(HTTPWire.continueResponse, context)), promise: nil)
                }
                state = .receiving(head, context.channel.allocator.buffer(capacity: 0))
            }
        case .body(var chunk):
            switch state {
            case .receiving(let head, var body):
                if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                    state = .discarding(head)
                } else {
                    state = .idle  // drop the reference so the append does not copy
                    body.writeBuffer(&chunk)
                    state = .receiving(head, body)
                }
            default: break
            }
        case .end:
            switch state {
            case .receiving(let head, let body):
                state = .responding
                dispatch(context: context, head: head, body: body)
            case .discarding(let head):
                state = .responding
                tooLarge(context: context, head: head)
            default: break
            }
        }
    }

    private func tooLarge(context: ChannelHandlerContext, head: HTTPRequestHead) {
        var headers = HostHeaders()
        headers.add("content-type", "application/json")
        let message = #"{"error":"request body larger than \#(maxBodyBytes) bytes"}"#
        write(
            context: context, head: head,
            response: HostResponse(status: 413, headers: headers, body: .bytes(Array(message.utf8))), close: true)
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let (path, query) = Self.split(head.uri)
        // Built at its final size: appending one by one regrew the array three times for the
        // usual 6-8 request headers.
        let headers = HostHeaders(head.headers.map { (name: $0.name, value: $0.value) })
        let request = HostRequest(
            method: head.method.rawValue, path: path, query: query, headers: headers,
            body: body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? [])
        let handler = self.handler
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        inline = InlineAnswer(running: true)
        // Task.immediate runs the handler on this event-loop thread until it first suspends: a
        // request whose tool answers at once is handled inside channelRead with no job enqueued.
        Task.immediate {
            let response = await handler.handle(request)
            if eventLoop.inEventLoop, bound.value.0.inline.running {
                bound.value.0.inline.response = response
                return
            }
            eventLoop.execute {
                let (this, context) = bound.value
                guard case .responding = this.state else { return }  // the connection went away
                this.write(context: context, head: head, response: response, close: false, flush: true)
            }
        }
        let answered = inline.response
        inline = InlineAnswer()
        guard let response = answered else { return }
        // Answered at once: written now, flushed by a loop task, which the loop runs after the reads
        // of this tick, so the answers to all connections that were readable leave in one burst;
        // flushing inside channelRead sent each alone and woke the peer per response (perf: 16% of
        // the CPU in cross-CPU wakeups, half the throughput at 64 connections).
        write(context: context, head: head, response: response, close: false, flush: false)
        eventLoop.execute {
            let (_, context) = bound.value
            context.flush()
        }
    }

    // MARK: outbound

    /// Holds reading back while pipelined requests wait, so a client cannot queue without bound.
    func read(context: ChannelHandlerContext) {
        if pipelined.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    /// Writes `response`; `flush: false` leaves a buffered (non-streamed, keep-alive) answer for the
    /// caller to flush.
    private func write(
        context: ChannelHandlerContext, head: HTTPRequestHead, response: HostResponse, close: Bool, flush: Bool = true
    ) {
        let forbidsBody = HTTPWire.forbidsBody(response.status)
        let noBody = head.method == .HEAD || forbidsBody  // HEAD: the GET answer's head, no body
        var keepAlive = head.isKeepAlive && !close
        let framing: HTTPWire.Framing
        switch response.body {
        case _ where forbidsBody: framing = .none
        case .empty: framing = .length(0)
        case .bytes(let bytes): framing = .length(bytes.count)
        case .stream:
            if head.version == .http1_0 {
                framing = .untilClose
                keepAlive = false
            } else {
                framing = .chunked
            }
        }
        var buffer: ByteBuffer
        if case .bytes(let bytes) = response.body, !noBody {
            buffer = context.channel.allocator.buffer(capacity: 160 + 48 * response.headers.entries.count + bytes.count)
        } else {
            buffer = context.channel.allocator.buffer(capacity: 160 + 48 * response.headers.entries.count)
        }
        if let invalid = HTTPWire.writeHead(
            version: head.version, status: response.status, headers: response.headers, framing: framing,
            keepAlive: keepAlive, into: &buffer)
        {
            // Never sent: a CR or LF would let a value start a header or a response of its own.
            logger.error("refusing to send an invalid response header", metadata: ["header": "\(invalid.prefix(64))"])
            if case .stream(let stream) = response.body { stream.clientGone() }
            return write(
                context: context, head: head, response: .error(500, "the server produced an invalid response header"),
                close: close, flush: flush)
        }
        switch response.body {
        case .empty:
            finish(context: context, buffer, keepAlive: keepAlive, flush: flush)
        case .bytes(let bytes):
            if !noBody { buffer.writeBytes(bytes) }
            finish(context: context, buffer, keepAlive: keepAlive, flush: flush)
        case .stream(let stream):
            if noBody {
                stream.clientGone()
                return finish(context: context, buffer, keepAlive: keepAlive, flush: flush)
            }
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            let chunked = framing == .chunked
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let pump = Task {
                for await chunk in stream.chunks where !chunk.isEmpty {
                    eventLoop.execute {
                        let (this, context) = bound.value
                        guard context.channel.isActive else { return }
                        var out = context.channel.allocator.buffer(capacity: chunk.count + 16)
                        if chunked { HTTPWire.writeChunk(chunk, into: &out) } else { out.writeBytes(chunk) }
                        context.writeAndFlush(this.wrapOutboundOut(out), promise: nil)
                    }
                }
                eventLoop.execute {
                    let (this, context) = bound.value
                    this.onClose = nil
                    guard context.channel.isActive else { return }
                    var out = context.channel.allocator.buffer(capacity: 8)
                    if chunked { out.writeStaticString(HTTPWire.lastChunk) }
                    this.finish(context: context, out, keepAlive: keepAlive, flush: true)
                }
            }
            onClose = {
                pump.cancel()
                stream.clientGone()
            }
        }
    }

    /// Writes the last bytes of a response, then takes the next pipelined request or closes.
    private func finish(context: ChannelHandlerContext, _ buffer: ByteBuffer, keepAlive: Bool, flush: Bool) {
        guard keepAlive else {
            state = .closing
            pipelined.removeAll()
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        if flush {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        } else {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        state = .idle
        drainPipelined(context: context)
    }

    /// Hands waiting pipelined parts on, in order, until one of them starts a response that is not
    /// answered at once; reading resumes once none wait.
    private func drainPipelined(context: ChannelHandlerContext) {
        guard !draining else { return }  // the loop below is already running further up the stack
        draining = true
        defer { draining = false }
        while !pipelined.isEmpty {
            switch state {
            case .responding, .closing: return
            case .idle, .receiving, .discarding: receive(context: context, pipelined.removeFirst())
            }
        }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    // MARK: connection events

    func channelInactive(context: ChannelHandlerContext) {
        watchdog?.task.cancel()
        watchdog = nil
        pipelined.removeAll()
        if let onClose {
            self.onClose = nil
            onClose()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is HTTPParserError {
            // Unparsable: nothing more can be read from this connection. Say so unless a response
            // has already begun, then close.
            logger.debug("unparsable HTTP request", metadata: ["error": "\(error)"])
            let answer: Bool
            switch state {
            case .responding, .closing: answer = false
            case .idle, .receiving, .discarding: answer = true
            }
            state = .closing
            pipelined.removeAll()
            if answer {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(Self.staticBuffer(HTTPWire.badRequest, context))).whenComplete { _ in
                    channel.close(promise: nil)
                }
                return
            }
        } else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }

    private static func staticBuffer(_ text: StaticString, _ context: ChannelHandlerContext) -> ByteBuffer {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8CodeUnitCount)
        buffer.writeStaticString(text)
        return buffer
    }

    /// A response the handler produced before its task first suspended.
    private struct InlineAnswer {
        var running = false
        var response: HostResponse?
    }

    static func split(_ uri: String) -> (String, String?) {
        // Searching the UTF-8 view: `firstIndex(of: Character)` walks grapheme clusters (~1.5k
        // instructions for a short path).
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (uri, nil) }
        return (String(uri[..<mark]), String(uri[uri.utf8.index(after: mark)...]))
    }
}
