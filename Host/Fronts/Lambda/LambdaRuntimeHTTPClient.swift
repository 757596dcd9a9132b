import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The Runtime API over one kept-alive HTTP/1.1 connection to `AWS_LAMBDA_RUNTIME_API`
/// (`host:port`). A runtime handles one invocation at a time, so requests never overlap; the
/// connection is reopened if the other side closed it.
public final class LambdaRuntimeHTTPClient: LambdaRuntimeClient {
    static let apiPrefix = "/2018-06-01/runtime"

    private let host: String
    private let port: Int
    private let group: EventLoopGroup
    private let channel = NIOLockedValueBox<Channel?>(nil)

    /// `endpoint` is the value of `AWS_LAMBDA_RUNTIME_API`: `host:port` (or `[v6]:port`).
    public init(endpoint: String, group: EventLoopGroup) throws {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
            (1...65535).contains(port)
        else {
            throw LambdaRuntimeClientError(
                operation: "connect", status: nil, detail: "AWS_LAMBDA_RUNTIME_API must be host:port (got \"\(endpoint)\")")
        }
        var host = String(endpoint[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else {
            throw LambdaRuntimeClientError(
                operation: "connect", status: nil, detail: "AWS_LAMBDA_RUNTIME_API must be host:port (got \"\(endpoint)\")")
        }
        self.host = host
        self.port = port
        self.group = group
    }

    /// Closes the connection (the runtime is stopping).
    public func close() async {
        let channel = self.channel.withLockedValue { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
    }

    // MARK: LambdaRuntimeClient

    public func next() async throws -> LambdaInvocation {
        let response = try await exchange(
            operation: "invocation/next", method: .GET, path: Self.apiPrefix + "/invocation/next", headers: [:], body: nil)
        guard response.status == 200 else { throw unexpected("invocation/next", response) }
        guard let requestID = response.headers.first(name: "lambda-runtime-aws-request-id"), !requestID.isEmpty else {
            throw LambdaRuntimeClientError(
                operation: "invocation/next", status: response.status, detail: "no Lambda-Runtime-Aws-Request-Id header")
        }
        return LambdaInvocation(
            requestID: requestID,
            deadlineUnixMs: response.headers.first(name: "lambda-runtime-deadline-ms").flatMap { Int64($0) },
            invokedFunctionARN: response.headers.first(name: "lambda-runtime-invoked-function-arn"),
            traceID: response.headers.first(name: "lambda-runtime-trace-id"),
            event: response.body)
    }

    public func respond(requestID: String, payload: [UInt8]) async throws {
        let operation = "invocation/\(requestID)/response"
        let response = try await exchange(
            operation: operation, method: .POST, path: Self.apiPrefix + "/invocation/\(Self.escape(requestID))/response",
            headers: ["content-type": "application/json"], body: payload)
        guard response.status == 202 else { throw unexpected(operation, response) }
    }

    public func streamResponse(requestID: String, contentType: String) async throws -> LambdaResponseWriter {
        let operation = "invocation/\(requestID)/response (streaming)"
        var headers = HTTPHeaders()
        headers.add(name: "host", value: hostHeader)
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "lambda-runtime-function-response-mode", value: "streaming")
        headers.add(name: "transfer-encoding", value: "chunked")
        headers.add(name: "trailer", value: "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
        let head = HTTPRequestHead(
            version: .http1_1, method: .POST, uri: Self.apiPrefix + "/invocation/\(Self.escape(requestID))/response",
            headers: headers)
        let channel = try await connection(operation: operation)
        let promise = channel.eventLoop.makePromise(of: RuntimeHTTPResponse.self)
        do {
            try await channel.writeAndFlush(RuntimeOutbound.request(head, promise)).get()
        } catch {
            promise.fail(error)
            drop(channel)
            throw LambdaRuntimeClientError(operation: operation, status: nil, detail: "\(error)")
        }
        return StreamWriter(client: self, channel: channel, response: promise.futureResult, operation: operation)
    }

    public func error(requestID: String, _ error: LambdaErrorReport) async throws {
        let operation = "invocation/\(requestID)/error"
        let response = try await exchange(
            operation: operation, method: .POST, path: Self.apiPrefix + "/invocation/\(Self.escape(requestID))/error",
            headers: ["content-type": "application/json", "lambda-runtime-function-error-type": error.errorType],
            body: error.json)
        guard response.status == 202 else { throw unexpected(operation, response) }
    }

    public func initError(_ error: LambdaErrorReport) async throws {
        let response = try await exchange(
            operation: "init/error", method: .POST, path: Self.apiPrefix + "/init/error",
            headers: ["content-type": "application/json", "lambda-runtime-function-error-type": error.errorType],
            body: error.json)
        guard response.status == 202 else { throw unexpected("init/error", response) }
    }

    // MARK: plumbing

    private var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Request ids are UUIDs; anything else is percent-encoded rather than trusted into a path.
    static func escape(_ id: String) -> String { LambdaEventCodec.percentEncode(id) }

    private func unexpected(_ operation: String, _ response: RuntimeHTTPResponse) -> LambdaRuntimeClientError {
        let text = String(decoding: response.body.prefix(512), as: UTF8.self)
        return LambdaRuntimeClientError(operation: operation, status: response.status, detail: text.isEmpty ? "(empty body)" : text)
    }

    private func exchange(
        operation: String, method: HTTPMethod, path: String, headers: [String: String], body: [UInt8]?
    ) async throws -> RuntimeHTTPResponse {
        var httpHeaders = HTTPHeaders()
        httpHeaders.add(name: "host", value: hostHeader)
        for (name, value) in headers { httpHeaders.add(name: name, value: value) }
        if let body { httpHeaders.add(name: "content-length", value: String(body.count)) }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: httpHeaders)
        let channel = try await connection(operation: operation)
        let promise = channel.eventLoop.makePromise(of: RuntimeHTTPResponse.self)
        do {
            channel.write(RuntimeOutbound.request(head, promise), promise: nil)
            if let body, !body.isEmpty {
                channel.write(RuntimeOutbound.part(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            }
            try await channel.writeAndFlush(RuntimeOutbound.part(.end(nil))).get()
            let response = try await promise.futureResult.get()
            if response.closeAfter { drop(channel) }
            return response
        } catch {
            promise.fail(error)
            drop(channel)
            throw LambdaRuntimeClientError(operation: operation, status: nil, detail: "\(error)")
        }
    }

    fileprivate func drop(_ stale: Channel) {
        channel.withLockedValue { current in
            if current === stale { current = nil }
        }
        stale.close(promise: nil)
    }

    private func connection(operation: String) async throws -> Channel {
        if let existing = channel.withLockedValue({ $0 }), existing.isActive { return existing }
        do {
            let fresh = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(RuntimeChannelHandler())
                    }
                }
                .connect(host: host, port: port)
                .get()
            channel.withLockedValue { $0 = fresh }
            return fresh
        } catch {
            throw LambdaRuntimeClientError(
                operation: operation, status: nil, detail: "cannot connect to the Runtime API at \(hostHeader): \(error)")
        }
    }

    /// Writes body chunks of a streamed response as they come; the trailers carry a failure.
    final class StreamWriter: LambdaResponseWriter {
        let client: LambdaRuntimeHTTPClient
        let channel: Channel
        let response: EventLoopFuture<RuntimeHTTPResponse>
        let operation: String

        init(client: LambdaRuntimeHTTPClient, channel: Channel, response: EventLoopFuture<RuntimeHTTPResponse>, operation: String) {
            self.client = client
            self.channel = channel
            self.response = response
            self.operation = operation
        }

        func write(_ bytes: [UInt8]) async throws {
            guard !bytes.isEmpty else { return }
            do {
                try await channel.writeAndFlush(RuntimeOutbound.part(.body(.byteBuffer(ByteBuffer(bytes: bytes))))).get()
            } catch {
                client.drop(channel)
                throw LambdaRuntimeClientError(operation: operation, status: nil, detail: "\(error)")
            }
        }

        func finish() async throws { try await end(trailers: nil) }

        func fail(_ error: LambdaErrorReport) async throws {
            var trailers = HTTPHeaders()
            trailers.add(name: "Lambda-Runtime-Function-Error-Type", value: error.errorType)
            trailers.add(name: "Lambda-Runtime-Function-Error-Body", value: Data(error.json).base64EncodedString())
            try await end(trailers: trailers)
        }

        private func end(trailers: HTTPHeaders?) async throws {
            let result: RuntimeHTTPResponse
            do {
                try await channel.writeAndFlush(RuntimeOutbound.part(.end(trailers))).get()
                result = try await response.get()
            } catch {
                client.drop(channel)
                throw LambdaRuntimeClientError(operation: operation, status: nil, detail: "\(error)")
            }
            if result.closeAfter { client.drop(channel) }
            guard result.status == 202 else {
                throw LambdaRuntimeClientError(
                    operation: operation, status: result.status, detail: String(decoding: result.body.prefix(512), as: UTF8.self))
            }
        }
    }
}

struct RuntimeHTTPResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var closeAfter: Bool
}

enum RuntimeOutbound: Sendable {
    /// A request head and the promise of its response.
    case request(HTTPRequestHead, EventLoopPromise<RuntimeHTTPResponse>)
    case part(HTTPClientRequestPart)
}

/// Pairs each request with its response (one at a time) and fails the pending one if the
/// connection goes away.
final class RuntimeChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = RuntimeOutbound
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<RuntimeHTTPResponse>?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .request(let head, let response):
            if let previous = pending {
                previous.fail(ChannelError.inappropriateOperationForState)
            }
            pending = response
            self.head = nil
            body = nil
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .part(let part):
            context.write(wrapOutboundOut(part), promise: promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = context.channel.allocator.buffer(capacity: 0)
        case .body(var chunk):
            body?.writeBuffer(&chunk)
        case .end:
            guard let head, let pending else { return }
            let bytes = body.map { $0.getBytes(at: $0.readerIndex, length: $0.readableBytes) ?? [] } ?? []
            self.pending = nil
            self.head = nil
            body = nil
            pending.succeed(
                RuntimeHTTPResponse(status: Int(head.status.code), headers: head.headers, body: bytes, closeAfter: !head.isKeepAlive))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(ChannelError.ioOnClosedChannel)
        pending = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        pending?.fail(error)
        pending = nil
        context.close(promise: nil)
    }
}
