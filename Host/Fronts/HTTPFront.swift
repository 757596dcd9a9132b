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
        /// A connection without progress for this long is closed (a stalled request gets 408 first).
        public var idleTimeout: TimeAmount
        public init(host: String, port: Int, maxBodyBytes: Int, idleTimeout: TimeAmount = .seconds(60)) {
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.idleTimeout = idleTimeout
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
        let idleTimeout = settings.idleTimeout
        let logger = self.logger
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // NIO's request decoder (llhttp), then the front's own handler, which frames
                    // responses, orders pipelined requests and answers unparsable ones itself
                    // (HTTPWire says why NIO's encoder and pipeline handlers are not used).
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
                        HTTPFrontHandler(handler: handler, maxBodyBytes: maxBody, idleTimeout: idleTimeout, logger: logger))
                }
            }
            .bind(host: settings.host, port: settings.port)
            .get()
    }
}
