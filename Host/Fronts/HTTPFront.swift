import Logging
import MCPHostCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The standalone HTTP/1.1 front on a bare SwiftNIO pipeline: bytes in, `HostRequest` to the
/// handler, `HostResponse` (buffered or streamed) back. It knows nothing about MCP.
///
/// Why not Hummingbird here: DESIGN.md measured a bare NIOHTTP1 pipeline at ~53k req/s on one core
/// against Hummingbird's ~21k, and the tools/call target (25k req/s) needs the headroom.
public final class HTTPFront: Sendable {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// Bodies above this are refused with 413 while still being received (never buffered).
        public var maxBodyBytes: Int
        public init(host: String, port: Int, maxBodyBytes: Int) {
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
        }
    }

    private let settings: Settings
    private let handler: HostRequestHandler
    private let group: EventLoopGroup
    private let logger: Logger

    public init(settings: Settings, handler: HostRequestHandler, group: EventLoopGroup, logger: Logger) {
        self.settings = settings
        self.handler = handler
        self.group = group
        self.logger = logger
    }

    /// Binds and returns the listening channel; `channel.localAddress` has the port.
    public func bind() async throws -> Channel {
        let handler = self.handler
        let maxBody = settings.maxBodyBytes
        let logger = self.logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Response headers are checked in HTTPFrontHandler.write, where they are built:
                    // NIO's validating handler did the same check for ~2% of a tools/call's
                    // instructions, most of it the extra pipeline hop for each response part.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPFrontHandler(handler: handler, maxBodyBytes: maxBody, logger: logger))
                }
            }
            .bind(host: settings.host, port: settings.port)
            .get()
    }
}

/// Turns one HTTP exchange at a time into a `HostRequest` and writes the `HostResponse`.
/// (Pipelined requests are queued by NIO's HTTPServerPipelineHandler.)
final class HTTPFrontHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, ByteBuffer)
        /// The body went over the limit: keep reading and dropping it, then answer 413.
        case discarding(HTTPRequestHead)
        case responding
    }

    private let handler: HostRequestHandler
    private let maxBodyBytes: Int
    private let logger: Logger
    private var state = State.idle
    /// Set while `Task.immediate` runs the handler synchronously inside `dispatch`.
    private var inline = InlineAnswer()
    /// Called when the connection closes during a streamed response.
    private var onClose: (() -> Void)?

    init(handler: HostRequestHandler, maxBodyBytes: Int, logger: Logger) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxBodyBytes {
                state = .discarding(head)
            } else {
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
                var headers = HostHeaders()
                headers.add("content-type", "application/json")
                let message = #"{"error":"request body larger than \#(maxBodyBytes) bytes"}"#
                write(
                    context: context, head: head,
                    response: HostResponse(status: 413, headers: headers, body: .bytes(Array(message.utf8))), close: true)
            default: break
            }
        }
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
                this.write(context: context, head: head, response: response, close: false, flush: true)
            }
        }
        let answered = inline.response
        inline = InlineAnswer()
        guard let response = answered else { return }
        // Answered at once: the response is written now, still inside channelRead, so NIO's
        // HTTPServerPipelineHandler sees it complete before the read of this tick ends and keeps the
        // socket registered for reading (answering later made it drop and re-add read interest:
        // two epoll_ctl calls per request). The flush waits for a loop task, which the loop runs
        // after the reads of the tick, so the answers to all connections that were readable leave
        // in one burst; flushing inside channelRead sent each alone and woke the peer per response
        // (perf: 16% of the CPU in cross-CPU wakeups, half the throughput at 64 connections).
        write(context: context, head: head, response: response, close: false, flush: false)
        eventLoop.execute {
            let (_, context) = bound.value
            context.flush()
        }
    }

    /// Writes `response`; `flush: false` leaves a buffered (non-streamed, keep-alive) answer for the
    /// caller to flush.
    private func write(
        context: ChannelHandlerContext, head: HTTPRequestHead, response: HostResponse, close: Bool, flush: Bool = true
    ) {
        let keepAlive = head.isKeepAlive && !close
        var headers = HTTPHeaders()
        for (name, value) in response.headers {
            // Framing is the front's: a handler's content-length or transfer-encoding never goes out.
            if Self.isFramingHeader(name) { continue }
            guard Self.isValidField(name: name, value: value) else {
                // Never sent: a CR or LF would let a value start a header or a response of its own.
                logger.error("refusing to send an invalid response header", metadata: ["header": "\(name.prefix(64))"])
                return write(
                    context: context, head: head, response: .error(500, "the server produced an invalid response header"),
                    close: close, flush: flush)
            }
            headers.add(name: name, value: value)
        }
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        switch response.body {
        case .empty:
            headers.add(name: "content-length", value: "0")
            finish(
                context: context, head: HTTPResponseHead(version: head.version, status: status, headers: headers), body: nil,
                keepAlive: keepAlive, flush: flush)
        case .bytes(let bytes):
            headers.add(name: "content-length", value: String(bytes.count))
            let buffer = context.channel.allocator.buffer(bytes: bytes)
            finish(
                context: context, head: HTTPResponseHead(version: head.version, status: status, headers: headers),
                body: buffer, keepAlive: keepAlive, flush: flush)
        case .stream(let stream):
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.flush()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let pump = Task {
                for await chunk in stream.chunks {
                    eventLoop.execute {
                        let (this, context) = bound.value
                        guard context.channel.isActive else { return }
                        context.writeAndFlush(this.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: chunk)))), promise: nil)
                    }
                }
                eventLoop.execute {
                    let (this, context) = bound.value
                    this.onClose = nil
                    guard context.channel.isActive else { return }
                    this.endResponse(context: context, keepAlive: keepAlive)
                }
            }
            onClose = {
                pump.cancel()
                stream.clientGone()
            }
        }
    }

    private func finish(
        context: ChannelHandlerContext, head: HTTPResponseHead, body: ByteBuffer?, keepAlive: Bool, flush: Bool
    ) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        endResponse(context: context, keepAlive: keepAlive, flush: flush)
    }

    private func endResponse(context: ChannelHandlerContext, keepAlive: Bool, flush: Bool = true) {
        state = .idle
        if keepAlive && !flush {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
        } else if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let onClose {
            self.onClose = nil
            onClose()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// A response the handler produced before its task first suspended.
    private struct InlineAnswer {
        var running = false
        var response: HostResponse?
    }

    /// RFC 9110 §5.1/§5.5, as NIO's validator applies it: a name is a non-empty token; a value holds
    /// no control character but HTAB (CR, LF and NUL are the dangerous ones; obs-text passes).
    static func isValidField(name: String, value: String) -> Bool {
        let nameOK = name.utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.isEmpty && bytes.allSatisfy { Self.tokenBytes[Int($0)] }
        } ?? (!name.isEmpty && name.utf8.allSatisfy { Self.tokenBytes[Int($0)] })
        guard nameOK else { return false }
        let isControl = { (byte: UInt8) in (byte < 0x20 && byte != 0x09) || byte == 0x7F }
        return !(value.utf8.withContiguousStorageIfAvailable { $0.contains(where: isControl) } ?? value.utf8.contains(where: isControl))
    }

    static func isFramingHeader(_ name: String) -> Bool {
        switch name.utf8.count {
        case 14: return HostHeaders.equalsIgnoringASCIICase(name, "content-length")
        case 17: return HostHeaders.equalsIgnoringASCIICase(name, "transfer-encoding")
        default: return false
        }
    }

    /// tchar of RFC 9110 §5.6.2, indexed by byte.
    private static let tokenBytes: [Bool] = (0..<256).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(byte))
        }
    }

    static func split(_ uri: String) -> (String, String?) {
        // Searching the UTF-8 view: `firstIndex(of: Character)` walks grapheme clusters (~1.5k
        // instructions for a short path).
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return (uri, nil) }
        return (String(uri[..<mark]), String(uri[uri.utf8.index(after: mark)...]))
    }
}
