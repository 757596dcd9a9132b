import MCPJSON

/// Everything `config/mcp-host.yaml` can say. Defaults make `mcp-host serve` work with no file:
/// loopback only, the bundled plugins, one local tenant, no authentication.
public struct HostConfig: Sendable {
    public struct Server: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var path = "/mcp"
        /// Event-loop threads; 0 = one per core.
        public var threads = 0
        public var maxBodyBytes = 4 * 1024 * 1024
        public var callTimeoutMs = 30_000
        public var allowedOrigins: [String] = []
        public var sessionIdleTimeoutS = 1800
        /// A connection that makes no progress for this long is closed: idle between requests, or
        /// stalled while sending a request (which is answered 408 first).
        public var connectionIdleTimeoutS = 60
        public var maxSessions = 10_000
        public var toolsPageSize = 100
        public var instructions: String?
        /// Serve Prometheus metrics (labelled by tenant id) at this path; nil: not served.
        public var metricsPath: String?
    }

    public struct Plugins: Sendable {
        /// nil: the directory holding the executable (bundled `libMCPPlugin*.so`).
        public var directory: String?
        public var allowSHA256: [String] = []
        /// How often the directory is checked for new or replaced plugins; 0 disables.
        public var reloadIntervalMs = 2000
        /// Where content-addressed copies are loaded from. nil: `$TMPDIR/mcp-host-<uid>/plugins`.
        public var cacheDirectory: String?
    }

    public struct Logging: Sendable {
        public var level = "info"
    }

    public struct Tenant: Sendable {
        public var id: String
        public var plugins: [String: JSONValue]?
        public var egress: [String]?
        /// SHA-256 digests (hex) of this tenant's API keys (`auth.mode: api_key`).
        public var apiKeySHA256: [String] = []
        /// Values of the token's tenant claim that mean this tenant (`auth.mode: jwt`); nil: its id.
        public var jwtClaimValues: [String]?

        public init(
            id: String, plugins: [String: JSONValue]? = nil, egress: [String]? = nil, apiKeySHA256: [String] = [],
            jwtClaimValues: [String]? = nil
        ) {
            self.id = id
            self.plugins = plugins
            self.egress = egress
            self.apiKeySHA256 = apiKeySHA256
            self.jwtClaimValues = jwtClaimValues
        }
    }

    public struct Auth: Sendable {
        /// "none" (loopback only, every request is the first tenant), "api_key" (registered keys) or
        /// "pass_through" (a plugin's credential header is the upstream key; the tenant is a hash of
        /// it and gets the first tenant's settings with that key).
        public var mode = "none"
        /// The request header carrying the API key (`api_key` mode).
        public var header = "x-api-key"
        /// OAuth bearer tokens (`jwt` mode).
        public var jwt = JWT()
    }

    /// `auth.mode: jwt`: bearer tokens from an OAuth authorization server (Cognito client
    /// credentials and the like), verified against the issuer's JWKS.
    public struct JWT: Sendable {
        /// Required `iss`.
        public var issuer = ""
        /// Accepted `aud` values (for tokens without `aud`, such as Cognito access tokens: `client_id`).
        public var audience: [String] = []
        /// A JWKS document on disk, or
        public var jwksFile: String?
        /// a JWKS URL fetched through the host's HTTP client (refreshed every `jwks_cache_s`, and on
        /// an unknown key id at most every 30 s).
        public var jwksURL: String?
        public var jwksCacheS = 3600
        /// Scopes every token must carry (`scope` or `scp`); a token without them gets 403.
        public var requiredScopes: [String] = []
        /// The claim naming the tenant (matched against tenant ids or `tenants[].jwt_claim_values`).
        public var tenantClaim = "sub"
        public var leewayS = 60
        /// RFC 9728 `resource` (nil: the URL the client used, from Host and X-Forwarded-Proto).
        public var resource: String?
        /// RFC 9728 `authorization_servers` (default: the issuer).
        public var authorizationServers: [String] = []
    }

    /// Per-tenant servers and limits.
    public struct Tenancy: Sendable {
        /// Most tenant servers kept built at once; the least recently used is evicted beyond it.
        public var maxTenants = 1000
        /// A tenant server unused this long is evicted (its plugin instances destroyed).
        public var idleTimeoutS = 900
        /// Requests per second each tenant may make on average; 0 disables rate limiting.
        public var rateLimitPerS: Double = 0
        /// Requests a tenant may make in a burst (token-bucket capacity); 0: max(1, rate_limit_per_s).
        public var rateLimitBurst = 0
    }

    public var server = Server()
    public var plugins = Plugins()
    public var logging = Logging()
    public var auth = Auth()
    public var tenancy = Tenancy()
    public var tenants: [Tenant] = [Tenant(id: "local", plugins: nil, egress: nil)]
    /// The file it came from, for messages.
    public var source = "(defaults)"

    public init() {}
}

/// A configuration problem, naming the file, the key and what was expected.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var key: String
    public var problem: String
    public var description: String { "\(file): \(key): \(problem)" }
    public init(file: String, key: String, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }
}
