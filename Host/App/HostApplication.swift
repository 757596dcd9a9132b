import AsyncHTTPClient
import Logging
import MCPConfig
import MCPFronts
import MCPGate
import MCPHostCore
import MCPJSON
import MCPMetrics
import MCPPlugins
import MCPProtocol
import MCPTenancy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The whole host, built from a configuration: plugins, tenants, sessions, protocol, gate, and
/// the routes of the HTTP front. The CLI and the tests build it the same way.
public final class HostApplication: Sendable {
    public let config: HostConfig
    public let plugins: PluginDirectory
    public let tenants: TenantRegistry
    public let sessions: InMemorySessionStore
    public let server: MCPServer
    public let transport: StreamableHTTPTransport
    public let gate: Gate
    public let router: HostRouter
    public let logger: Logger
    let group: EventLoopGroup
    let httpClient: HTTPClient

    public static let version = "0.1.0"

    /// Builds the host and loads the plugins once. Fails only for problems that make serving
    /// impossible (an unusable plugin cache); a refused plugin file is reported, not fatal.
    public init(config: HostConfig, executableDirectory: String, group: EventLoopGroup, logger: Logger) throws {
        self.config = config
        self.group = group
        self.logger = logger
        // Plugin egress and JWKS fetches. Redirects are refused (a redirect could leave the tenant's
        // egress allow-list). AHC retries a failed connect with backoff until the connect timeout
        // (default 10 s), so an unreachable upstream held a tool call that long: 3 s is ample for a
        // working upstream and gives the model a "connection refused" answer while it still helps.
        httpClient = HTTPClient(
            eventLoopGroup: group,
            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(3))))
        let services = HostServices(httpClient: httpClient, logger: logger)
        let cache = config.plugins.cacheDirectory ?? Self.defaultCacheDirectory()
        try PluginLoader.prepareCacheDirectory(cache)
        let loader = PluginLoader(cacheDirectory: cache, allowedSHA256: Set(config.plugins.allowSHA256), services: services)
        let directoryPath = config.plugins.directory ?? executableDirectory
        // The bundled plugins sit beside the executable among other build products: only
        // `libMCPPlugin*.so` there. A configured directory is all plugins.
        plugins = PluginDirectory(
            path: directoryPath, filePrefix: config.plugins.directory == nil ? "libMCPPlugin" : "", loader: loader,
            logger: logger)
        plugins.rescan()
        tenants = TenantRegistry(
            tenants: config.tenants.map { TenantSettings(id: $0.id, plugins: $0.plugins, egress: $0.egress) },
            directory: plugins, logger: logger,
            limits: TenantRegistry.Limits(
                maxTenants: config.tenancy.maxTenants, idleTimeout: .seconds(config.tenancy.idleTimeoutS)))
        sessions = InMemorySessionStore(
            maxSessions: config.server.maxSessions, idleTimeout: .seconds(config.server.sessionIdleTimeoutS))
        var settings = ServerSettings()
        settings.version = Self.version
        settings.instructions = config.server.instructions
        settings.callTimeout = .milliseconds(config.server.callTimeoutMs)
        settings.pageSize = config.server.toolsPageSize
        settings.sessionIdleTimeout = .seconds(config.server.sessionIdleTimeoutS)
        let metrics = config.server.metricsPath.map { _ in PrometheusHostMetrics() }
        settings.metrics = metrics
        server = MCPServer(settings: settings, eventLoopGroup: group, logger: logger)
        transport = StreamableHTTPTransport(server: server, sessions: sessions, logger: logger)
        let resolver: TenantResolver
        var protectedResource: ProtectedResourceMetadata?
        switch config.auth.mode {
        case "api_key":
            resolver = try APIKeyResolver(
                header: config.auth.header,
                keys: config.tenants.flatMap { tenant in tenant.apiKeySHA256.map { (sha256: $0, tenantID: tenant.id) } },
                registry: tenants, logger: logger)
        case "pass_through":
            resolver = PassThroughResolver(registry: tenants, template: config.tenants[0].id, logger: logger)
        case "jwt":
            let bearer = try Self.bearerSettings(config)
            resolver = BearerResolver(
                settings: bearer, keys: try Self.jwksSource(config, httpClient: httpClient), registry: tenants, logger: logger)
            protectedResource = ProtectedResourceMetadata(settings: bearer)
        default:
            // auth: none (loopback only, checked by the configuration): every request is the first tenant.
            guard let tenant = tenants.server(for: config.tenants[0].id) else {
                throw ConfigError(file: config.source, key: "tenants", problem: "no tenant configured")
            }
            resolver = SingleTenantResolver(tenant: tenant)
        }
        let rateLimiter = config.tenancy.rateLimitPerS > 0
            ? TenantRateLimiter(ratePerSecond: config.tenancy.rateLimitPerS, burst: config.tenancy.rateLimitBurst) : nil
        gate = Gate(
            settings: Gate.Settings(
                origins: OriginPolicy(allowed: config.server.allowedOrigins), maxBodyBytes: config.server.maxBodyBytes,
                rateLimiter: rateLimiter, credentialHeaders: config.auth.mode == "api_key"
                    ? [config.auth.header] : config.auth.mode == "pass_through" ? tenants.passThroughHeaders : [],
                metrics: metrics),
            resolver: resolver, transport: transport, logger: logger)
        router = HostRouter(
            mcpPath: config.server.path, gate: gate, health: HealthHandler(plugins: plugins, sessions: sessions),
            protectedResource: protectedResource, metrics: metrics.map { (config.server.metricsPath ?? "/metrics", $0) })
    }

    static func defaultCacheDirectory() -> String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        return "\(base)/mcp-host-\(geteuid())/plugins"
    }

    /// Periodic work: plugin directory rescans (hot reload) and session expiry.
    public func maintenance() async {
        let reload = config.plugins.reloadIntervalMs
        // Sweep expired sessions at least every 30 s, or every idle timeout if that is shorter.
        let sweep = min(Duration.seconds(30), server.settings.sessionIdleTimeout, tenants.limits.idleTimeout)
        let interval: Duration = reload > 0 ? min(.milliseconds(reload), sweep) : sweep
        var lastExpiry = ContinuousClock.now
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            if reload > 0 { plugins.rescan() }
            if ContinuousClock.now - lastExpiry >= sweep {
                lastExpiry = .now
                let expired = sessions.expire(idleTimeout: server.settings.sessionIdleTimeout)
                if expired > 0 { logger.info("sessions expired", metadata: ["count": "\(expired)"]) }
                tenants.expireIdle()
            }
        }
    }

    /// Serves HTTP until SIGTERM/SIGINT (graceful: stop accepting, let in-flight requests finish).
    /// `onListening` receives the bound address (useful with port 0).
    public func serveHTTP(onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }) async throws {
        let front = HTTPFront(
            settings: .init(
                host: config.server.host, port: config.server.port, maxBodyBytes: config.server.maxBodyBytes,
                idleTimeout: .seconds(Int64(config.server.connectionIdleTimeoutS))),
            handler: router, group: group, logger: logger)
        let channel = try await front.bind()
        if let address = channel.localAddress { onListening(address) }
        logger.info(
            "listening",
            metadata: [
                "address": "\(channel.localAddress?.description ?? "?")", "path": "\(config.server.path)",
                "plugins": "\(plugins.snapshot.images.map(\.name).joined(separator: ","))",
            ])
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: HTTPService(channel: channel, router: router, logger: logger)),
                    .init(service: MaintenanceService(app: self)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await serviceGroup.run()
        try await httpClient.shutdown()
    }

    /// Serves MCP on stdin/stdout for one local client until end of input.
    public func serveStdio() async {
        guard let tenant = tenants.server(for: config.tenants[0].id) else { return }
        let writer = StdioFront.writer
        let connection = StdioConnection(server: server, tenant: tenant, logger: logger) { writer.write($0) }
        let maintenance = Task { await self.maintenance() }
        // SIGTERM/SIGINT (what clients send after closing stdin) end the session like end of input.
        let signals = StdioFront.onTermination { await connection.close() }
        await StdioFront.run { line in await connection.receive(line: line) }
        await connection.close()
        signals.cancel()
        maintenance.cancel()
        try? await httpClient.shutdown()
    }
}

/// The HTTP listener as a lifecycle service: on graceful shutdown it stops accepting and waits
/// (bounded) for requests in flight.
struct HTTPService: Service {
    let channel: Channel
    let router: HostRouter
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            logger.info("shutting down: no new connections")
            channel.close(promise: nil)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while router.inFlight > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.info("stopped", metadata: ["unfinished_requests": "\(router.inFlight)"])
    }
}

struct MaintenanceService: Service {
    let app: HostApplication
    func run() async throws {
        await cancelWhenGracefulShutdown { await app.maintenance() }
    }
}

/// Routes of the HTTP front: the MCP endpoint through the gate, `/health`, 404 elsewhere.
public final class HostRouter: HostRequestHandler {
    let mcpPath: String
    let gate: Gate
    let health: HealthHandler
    /// RFC 9728 metadata, when bearer-token auth is on.
    let protectedResource: ProtectedResourceMetadata?
    private let counter = NIOLockedValueBox(0)

    /// `server.metrics_path` and what it serves, when configured.
    let metrics: (path: String, exporter: PrometheusHostMetrics)?

    init(
        mcpPath: String, gate: Gate, health: HealthHandler, protectedResource: ProtectedResourceMetadata?,
        metrics: (path: String, exporter: PrometheusHostMetrics)?
    ) {
        self.mcpPath = mcpPath
        self.gate = gate
        self.health = health
        self.protectedResource = protectedResource
        self.metrics = metrics
    }

    var inFlight: Int { counter.withLockedValue { $0 } }

    public func handle(_ request: HostRequest) async -> HostResponse {
        counter.withLockedValue { $0 += 1 }
        defer { counter.withLockedValue { $0 -= 1 } }
        if request.path == mcpPath { return await gate.handle(request) }
        if request.path == "/health" {
            guard request.method == "GET" || request.method == "HEAD" else {
                return HostResponse.error(405, "use GET", headers: ["allow": "GET, HEAD"])
            }
            return health.response()
        }
        if let metrics, request.path == metrics.path { return metrics.exporter.response(for: request) }
        if let protectedResource, protectedResource.handles(request.path) {
            // Public metadata: any origin may read it (RFC 9728 clients run in browsers too).
            var response = protectedResource.response(for: request, mcpPath: mcpPath)
            if request.headers["origin"] != nil { response.headers.add("access-control-allow-origin", "*") }
            return response
        }
        return HostResponse.error(404, "not found: \(request.path)")
    }
}

/// `/health`: each plugin file's state (loaded with name, version, hash; or why it was refused).
struct HealthHandler: Sendable {
    let plugins: PluginDirectory
    let sessions: SessionStore

    func response() -> HostResponse {
        let snapshot = plugins.snapshot
        var list: [JSONValue] = []
        var failed = false
        for status in snapshot.statuses {
            var entry: JSONObject = ["file": .string(status.file), "status": .string(status.state)]
            if let name = status.name { entry["name"] = .string(name) }
            if let version = status.version { entry["version"] = .string(version) }
            if let sha = status.sha256 { entry["sha256"] = .string(sha) }
            if let error = status.error {
                entry["error"] = .string(error)
                failed = true
            }
            list.append(.object(entry))
        }
        let body: JSONValue = [
            "status": .string(failed ? "degraded" : "ok"), "version": .string(HostApplication.version),
            "plugins": .array(list), "sessions": .int(Int64(sessions.count)),
        ]
        return HostResponse.json(200, body)
    }
}

extension HostApplication {
    /// Loads one plugin file with every check `serve` applies and describes it (for `plugins inspect`).
    public static func inspectPlugin(path: String) async throws -> JSONValue {
        let logger = Logger(label: "mcp-host") { JSONLogHandler(label: $0, level: .warning) }
        // Plugins may call host services from init; the shared client needs no shutdown.
        let services = HostServices(httpClient: HTTPClient.shared, logger: logger)
        let cache = defaultCacheDirectory()
        try PluginLoader.prepareCacheDirectory(cache)
        let image = try PluginLoader(cacheDirectory: cache, services: services).load(path: path)
        var tools: [JSONValue] = []
        for tool in image.manifest.tools {
            var entry: JSONObject = ["name": .string(image.name + "." + tool.name), "inputSchema": tool.inputSchema]
            if let title = tool.title { entry["title"] = .string(title) }
            if let description = tool.description { entry["description"] = .string(description) }
            if let output = tool.outputSchema { entry["outputSchema"] = output }
            if let annotations = tool.annotations { entry["annotations"] = annotations }
            tools.append(.object(entry))
        }
        return [
            "file": .string(path), "name": .string(image.name), "version": .string(image.version),
            "sdk_id": .string(image.sdkID), "sha256": .string(image.sha256), "tools": .array(tools),
            "configSchema": image.manifest.configSchema,
        ]
    }
}
