import Logging
import MCPHostCore
import MCPProtocol
import MCPTenancy

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = self
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Decides who a request is for before any JSON-RPC is parsed.
public protocol TenantResolver: Sendable {
    /// The tenant of `request`, or the response refusing it (401, 403...).
    func resolve(_ request: HostRequest) async -> Result<TenantHandle, GateRejection>
}

public struct GateRejection: Error, Sendable {
    public var response: HostResponse
    public init(_ response: HostResponse) { self.response = response }
}

/// `auth: none`: every request belongs to one configured tenant. Only allowed on loopback
/// (the configuration refuses it otherwise).
public struct SingleTenantResolver: TenantResolver {
    let tenant: TenantHandle
    public init(tenant: TenantHandle) { self.tenant = tenant }
    public func resolve(_ request: HostRequest) -> Result<TenantHandle, GateRejection> { .success(tenant) }
}

/// Which browser origins may call the endpoint.
public struct OriginPolicy: Sendable {
    /// Exact origins (`https://app.example.com`) or `*`. Loopback origins are always allowed.
    public var allowed: [String]

    public init(allowed: [String]) { self.allowed = allowed.map { $0.lowercased() } }

    public func allows(_ origin: String) -> Bool {
        let origin = origin.lowercased()
        if allowed.contains("*") || allowed.contains(origin) { return true }
        return Self.isLoopback(origin)
    }

    /// `http(s)://localhost[:port]`, `127.x.x.x`, `[::1]`.
    static func isLoopback(_ origin: String) -> Bool {
        guard let schemeEnd = origin.range(of: "://") else { return false }
        let scheme = origin[..<schemeEnd.lowerBound]
        guard scheme == "http" || scheme == "https" else { return false }
        var host = origin[schemeEnd.upperBound...]
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            return host[host.index(after: host.startIndex)..<close] == "::1"
        }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        if host == "localhost" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// The checks every MCP request passes before the protocol layer: Origin (DNS-rebinding
/// defence), CORS, body size, tenant resolution. Front-neutral: an HTTP request and a Lambda
/// event go through the same gate.
public final class Gate: HostRequestHandler {
    public struct Settings: Sendable {
        public var origins: OriginPolicy
        public var maxBodyBytes: Int
        /// Per-tenant request rate limit; nil: none.
        public var rateLimiter: TenantRateLimiter?
        /// Request headers browsers may send besides the MCP ones (a custom API key header).
        public var credentialHeaders: [String]
        /// Per-tenant request metrics; nil: none recorded.
        public var metrics: (any HostMetricsRecorder)?
        public init(
            origins: OriginPolicy, maxBodyBytes: Int, rateLimiter: TenantRateLimiter? = nil, credentialHeaders: [String] = [],
            metrics: (any HostMetricsRecorder)? = nil
        ) {
            self.origins = origins
            self.maxBodyBytes = maxBodyBytes
            self.rateLimiter = rateLimiter
            self.credentialHeaders = credentialHeaders
            self.metrics = metrics
        }
    }

    let settings: Settings
    let resolver: TenantResolver
    let transport: StreamableHTTPTransport
    let logger: Logger
    let allowHeaders: String

    public init(settings: Settings, resolver: TenantResolver, transport: StreamableHTTPTransport, logger: Logger) {
        self.settings = settings
        self.resolver = resolver
        self.transport = transport
        self.logger = logger
        let known = Set(Self.corsAllowHeaders.split(separator: ",").map { $0.trimmingCharacters(in: " ") })
        let extra = settings.credentialHeaders.map { $0.lowercased() }.filter { !known.contains($0) }
        allowHeaders = ([Self.corsAllowHeaders] + extra).joined(separator: ", ")
    }

    static let corsAllowHeaders =
        "content-type, accept, authorization, x-api-key, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, last-event-id"

    public func handle(_ request: HostRequest) async -> HostResponse {
        guard let metrics = settings.metrics else { return await admit(request).response }
        let started = ContinuousClock.now
        let (response, tenant) = await admit(request)
        metrics.recordRequest(tenant: tenant ?? "-", status: response.status, duration: ContinuousClock.now - started)
        return response
    }

    /// The response, and the tenant once one was resolved.
    private func admit(_ request: HostRequest) async -> (response: HostResponse, tenant: String?) {
        var cors = HostHeaders()
        if let origin = request.headers["origin"] {
            guard settings.origins.allows(origin) else {
                logger.warning("origin refused", metadata: ["request_id": "\(request.requestID)", "origin": "\(origin)"])
                return (HostResponse.error(403, "Forbidden: origin \(origin) is not allowed"), nil)
            }
            cors.add("access-control-allow-origin", origin)
            cors.add("vary", "origin")
            cors.add("access-control-expose-headers", "mcp-session-id, mcp-protocol-version, www-authenticate")
        }
        if request.method == "OPTIONS" {
            var headers = cors
            headers.add("access-control-allow-methods", "GET, POST, DELETE, OPTIONS")
            headers.add("access-control-allow-headers", allowHeaders)
            headers.add("access-control-max-age", "600")
            return (HostResponse(status: 204, headers: headers), nil)
        }
        guard request.body.count <= settings.maxBodyBytes else {
            return (withHeaders(HostResponse.error(413, "request body larger than \(settings.maxBodyBytes) bytes"), cors), nil)
        }
        let tenant: TenantHandle
        switch await resolver.resolve(request) {
        case .success(let resolved): tenant = resolved
        case .failure(let rejection): return (withHeaders(rejection.response, cors), nil)
        }
        if let limiter = settings.rateLimiter, let wait = limiter.acquire(tenant.tenantID) {
            logger.warning(
                "rate limited",
                metadata: ["request_id": "\(request.requestID)", "tenant": "\(tenant.tenantID)", "retry_after_s": "\(wait)"])
            return (withHeaders(
                HostResponse.error(429, "Too Many Requests: this tenant's rate limit is exceeded; retry after \(wait) s",
                    headers: ["retry-after": "\(wait)"]), cors), tenant.tenantID)
        }
        return (withHeaders(await transport.handle(request, tenant: tenant), cors), tenant.tenantID)
    }

    private func withHeaders(_ response: HostResponse, _ extra: HostHeaders) -> HostResponse {
        guard !extra.entries.isEmpty else { return response }
        var response = response
        for (name, value) in extra { response.headers.add(name, value) }
        return response
    }
}
