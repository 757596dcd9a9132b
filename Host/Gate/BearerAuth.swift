import JWTKit
import Logging
import MCPHostCore
import MCPJSON
import MCPProtocol
import MCPTenancy

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `auth: jwt` — OAuth 2.0 bearer tokens (Cognito-style client credentials): the signature is
/// checked against the issuer's JWKS, then issuer, audience, expiry/not-before (with leeway) and
/// the required scopes; a configured claim names the tenant. jwt-kit does the JOSE part (parsing,
/// key selection by `kid`, RS/ES/PS/EdDSA signatures); the claim checks are ours so that each
/// refusal can say which check failed. Tokens are never logged, only the reason a check failed.
public struct BearerSettings: Sendable {
    public var issuer: String
    /// Accepted `aud` values (any one suffices). Cognito access tokens carry no `aud`; for them
    /// `client_id` is compared instead.
    public var audiences: [String]
    public var requiredScopes: [String]
    /// The claim whose (string) value names the tenant.
    public var tenantClaim: String
    /// Tolerated clock skew for `exp`/`nbf`/`iat`.
    public var leewaySeconds: Int
    /// Claim value → tenant id (a tenant's id maps to itself unless configured otherwise).
    public var tenantsByClaim: [String: String]
    /// RFC 9728 metadata: the resource identifier (nil: derived from each request's Host).
    public var resource: String?
    public var authorizationServers: [String]
    public var resourceName: String

    public init(
        issuer: String, audiences: [String], requiredScopes: [String], tenantClaim: String, leewaySeconds: Int,
        tenantsByClaim: [String: String], resource: String?, authorizationServers: [String], resourceName: String
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.requiredScopes = requiredScopes
        self.tenantClaim = tenantClaim
        self.leewaySeconds = leewaySeconds
        self.tenantsByClaim = tenantsByClaim
        self.resource = resource
        self.authorizationServers = authorizationServers
        self.resourceName = resourceName
    }
}

/// Where the verification keys come from: a JWKS document fetched (and refreshed) by `fetch`.
/// A file source fetches by reading the file; a URL source through the host's HTTP client.
public struct JWKSSource: Sendable {
    /// For messages (`file /etc/jwks.json`, `https://issuer/.well-known/jwks.json`).
    public var description: String
    /// Returns the JWKS JSON, or throws an error whose description names the source.
    public var fetch: @Sendable () async throws -> String
    /// How long fetched keys are used before the next request refreshes them.
    public var maxAge: Duration

    public init(description: String, maxAge: Duration, fetch: @escaping @Sendable () async throws -> String) {
        self.description = description
        self.maxAge = maxAge
        self.fetch = fetch
    }
}

/// A fetched key set: jwt-kit's collection plus the key ids it holds. jwt-kit falls back to its
/// default key for a `kid` it does not know; the resolver wants an unknown `kid` to mean "the
/// issuer may have rotated its keys" (refresh) and then "not one of the issuer's keys" (refuse),
/// so it checks the id itself first.
struct KeySet: Sendable {
    let keys: JWTKeyCollection
    let ids: Set<String>
}

/// The current key set. One refresh at a time; an unknown `kid` triggers a refresh at most every
/// `minimumRefreshInterval` (so a flood of forged kids cannot turn into a flood of fetches).
actor JWKSCache {
    let source: JWKSSource
    let logger: Logger
    let minimumRefreshInterval: Duration
    private var keys: KeySet?
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?
    private var lastUnknownKeyRefresh: ContinuousClock.Instant?
    private var refreshing: Task<KeySet, any Error>?

    init(source: JWKSSource, logger: Logger, minimumRefreshInterval: Duration = .seconds(30)) {
        self.source = source
        self.logger = logger
        self.minimumRefreshInterval = minimumRefreshInterval
    }

    /// The keys, fetched when missing or older than the source's max age.
    func current() async throws -> KeySet {
        if let keys, let fetchedAt, ContinuousClock.now - fetchedAt < source.maxAge { return keys }
        if let keys, let lastAttempt, ContinuousClock.now - lastAttempt < minimumRefreshInterval { return keys }
        return try await refresh()
    }

    /// After an unknown `kid` (the issuer may have rotated its keys): new keys, unless the last
    /// such refresh was less than `minimumRefreshInterval` ago (then nil).
    func refreshForUnknownKey() async throws -> KeySet? {
        if let last = lastUnknownKeyRefresh, ContinuousClock.now - last < minimumRefreshInterval { return nil }
        lastUnknownKeyRefresh = .now
        return try await refresh()
    }

    private func refresh() async throws -> KeySet {
        if let refreshing { return try await refreshing.value }
        lastAttempt = .now
        let source = source
        let task = Task { () throws -> KeySet in
            let json = try await source.fetch()
            let ids = (try? JSONValue.parse(json))?["keys"]?.arrayValue?.compactMap { $0["kid"]?.stringValue } ?? []
            do {
                return KeySet(keys: try await JWTKeyCollection().add(jwksJSON: json), ids: Set(ids))
            } catch {
                throw JWKSUnavailable(description: "\(source.description): not a usable JWKS (\(error))")
            }
        }
        refreshing = task
        defer { refreshing = nil }
        do {
            let fresh = try await task.value
            keys = fresh
            fetchedAt = .now
            return fresh
        } catch {
            logger.error("JWKS refresh failed", metadata: ["source": "\(source.description)", "error": "\(error)"])
            if let keys { return keys }  // keep serving with the previous keys
            throw error
        }
    }
}

public struct JWKSUnavailable: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(description: String) { self.description = description }
}

/// The claims of a token, decoded loosely: which claims matter is configuration.
struct BearerClaims: JWTPayload {
    var claims: [String: ClaimValue]

    enum ClaimValue: Codable, Sendable {
        case string(String)
        case number(Double)
        case bool(Bool)
        case strings([String])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode([String].self) {
                self = .strings(value)
            } else {
                self = .other
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let v): try container.encode(v)
            case .number(let v): try container.encode(v)
            case .bool(let v): try container.encode(v)
            case .strings(let v): try container.encode(v)
            case .other: try container.encodeNil()
            }
        }

        var string: String? { if case .string(let v) = self { v } else { nil } }
        var number: Double? { if case .number(let v) = self { v } else { nil } }
        /// A string claim or an array of strings (`aud`, `scp`).
        var strings: [String]? {
            switch self {
            case .string(let v): [v]
            case .strings(let v): v
            default: nil
            }
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var claims: [String: ClaimValue] = [:]
        for key in container.allKeys { claims[key.stringValue] = try container.decode(ClaimValue.self, forKey: key) }
        self.claims = claims
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (name, value) in claims { try container.encode(value, forKey: Key(stringValue: name)) }
    }

    /// Claims are checked by `BearerResolver.check`, which can say which one failed.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// `scope` (space-separated, OAuth 2.0) or `scp` (array, some issuers).
    var scopes: Set<String> {
        if let scope = claims["scope"]?.string { return Set(scope.split(separator: " ").map(String.init)) }
        if let scp = claims["scp"]?.strings { return Set(scp) }
        return []
    }
}

/// Resolves a request's tenant from its `Authorization: Bearer` token.
public struct BearerResolver: TenantResolver {
    let settings: BearerSettings
    let cache: JWKSCache
    let metadata: ProtectedResourceMetadata
    let registry: TenantRegistry
    let logger: Logger
    let now: @Sendable () -> Double

    public init(
        settings: BearerSettings, keys: JWKSSource, registry: TenantRegistry, logger: Logger,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.settings = settings
        self.cache = JWKSCache(source: keys, logger: logger)
        self.metadata = ProtectedResourceMetadata(settings: settings)
        self.registry = registry
        self.logger = logger
        self.now = now
    }

    /// Why a token was refused: RFC 6750 error code, and a description safe to show (no token).
    struct Refusal: Error {
        var status: Int
        var error: String?
        var description: String
        var scope: String?
    }

    public func resolve(_ request: HostRequest) async -> Result<TenantHandle, GateRejection> {
        let token: String
        switch Self.bearerToken(request.headers) {
        case .success(let value): token = value
        case .failure(let refusal): return refuse(request, refusal)
        }
        let claims: BearerClaims
        do {
            claims = try await verify(token)
        } catch let refusal as Refusal {
            return refuse(request, refusal)
        } catch {
            logger.error("cannot verify bearer tokens", metadata: ["request_id": "\(request.requestID)", "error": "\(error)"])
            return .failure(GateRejection(HostResponse.error(
                503, "Service Unavailable: the authorization server's keys cannot be loaded; retry later",
                headers: ["retry-after": "5"])))
        }
        let tenantID: String
        switch check(claims) {
        case .success(let id): tenantID = id
        case .failure(let refusal): return refuse(request, refusal)
        }
        guard let server = registry.server(for: tenantID) else {
            return refuse(request, Refusal(status: 401, error: "invalid_token", description: "the token's tenant is not served here"))
        }
        return .success(server)
    }

    static func bearerToken(_ headers: HostHeaders) -> Result<String, Refusal> {
        let count = headers.count(of: "authorization")
        guard count > 0, let value = headers["authorization"] else {
            // RFC 6750 §3.1: no error code when the request carried no credentials at all.
            return .failure(Refusal(status: 401, error: nil, description: "send an OAuth bearer token in the Authorization header"))
        }
        guard count == 1 else {
            return .failure(Refusal(status: 400, error: "invalid_request", description: "send exactly one Authorization header"))
        }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .failure(Refusal(status: 401, error: "invalid_request", description: "the Authorization header must be \"Bearer <token>\""))
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else {
            return .failure(Refusal(status: 401, error: "invalid_request", description: "the bearer token is empty"))
        }
        return .success(token)
    }

    /// Signature against the JWKS (refreshed once on an unknown `kid`).
    func verify(_ token: String) async throws -> BearerClaims {
        guard let kid = Self.keyID(of: token) else {
            throw Refusal(status: 401, error: "invalid_token", description: "the token is malformed")
        }
        var set = try await cache.current()
        if let kid, !set.ids.contains(kid) {
            guard let fresh = try await cache.refreshForUnknownKey(), fresh.ids.contains(kid) else {
                throw Refusal(
                    status: 401, error: "invalid_token", description: "the token was signed with a key the issuer does not publish")
            }
            set = fresh
        } else if kid == nil, set.ids.count > 1 {
            throw Refusal(status: 401, error: "invalid_token", description: "the token names no signing key (kid)")
        }
        do {
            return try await set.keys.verify(token, as: BearerClaims.self)
        } catch {
            throw Self.refusal(for: error)
        }
    }

    /// The `kid` of the token's JOSE header: `.some(nil)` when it has none, nil when the header
    /// is not base64url JSON.
    static func keyID(of token: String) -> String?? {
        guard let dot = token.firstIndex(of: "."), token[dot...].dropFirst().contains(".") else { return nil }
        var base64 = String(token[..<dot]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let header = try? JSONValue.parse(Array(data)),
            header.objectValue != nil
        else { return nil }
        guard let kid = header["kid"] else { return .some(nil) }
        guard let text = kid.stringValue else { return nil }
        return .some(text)
    }

    static func refusal(for error: any Error) -> Refusal {
        let reason: String
        if let error = error as? JWTError {
            switch error.errorType {
            case .malformedToken: reason = "the token is malformed"
            case .signatureVerificationFailed: reason = "the token's signature is not valid"
            case .unknownKID: reason = "the token was signed with a key the issuer does not publish"
            case .missingKIDHeader: reason = "the token names no signing key (kid)"
            case .unsupportedAlgorithm, .signingAlgorithmFailure: reason = "the token's signing algorithm is not accepted"
            default: reason = "the token cannot be verified"
            }
        } else {
            reason = "the token is malformed"
        }
        return Refusal(status: 401, error: "invalid_token", description: reason)
    }

    /// Issuer, audience, time window, scopes, tenant — in that order; the first failure is reported.
    func check(_ token: BearerClaims) -> Result<String, Refusal> {
        let claims = token.claims
        func invalid(_ description: String) -> Result<String, Refusal> {
            .failure(Refusal(status: 401, error: "invalid_token", description: description))
        }
        guard claims["iss"]?.string == settings.issuer else { return invalid("the token was not issued by the expected issuer") }
        let audiences = claims["aud"]?.strings ?? claims["client_id"]?.string.map { [$0] } ?? []
        guard audiences.contains(where: settings.audiences.contains) else {
            return invalid("the token is not meant for this resource (audience)")
        }
        let now = now(), leeway = Double(settings.leewaySeconds)
        guard let exp = claims["exp"]?.number else { return invalid("the token has no expiry (exp)") }
        guard now < exp + leeway else { return invalid("the token has expired") }
        if let nbf = claims["nbf"]?.number, now + leeway < nbf { return invalid("the token is not valid yet (nbf)") }
        if let iat = claims["iat"]?.number, now + leeway < iat { return invalid("the token was issued in the future (iat)") }
        let granted = token.scopes
        let missing = settings.requiredScopes.filter { !granted.contains($0) }
        guard missing.isEmpty else {
            return .failure(Refusal(
                status: 403, error: "insufficient_scope",
                description: "the token lacks the scope \(missing.joined(separator: " "))",
                scope: settings.requiredScopes.joined(separator: " ")))
        }
        guard let value = claims[settings.tenantClaim]?.string, !value.isEmpty else {
            return invalid("the token has no \(settings.tenantClaim) claim naming a tenant")
        }
        guard let tenant = settings.tenantsByClaim[value] else { return invalid("the token's tenant is not served here") }
        return .success(tenant)
    }

    private func refuse(_ request: HostRequest, _ refusal: Refusal) -> Result<TenantHandle, GateRejection> {
        logger.notice(
            "request refused",
            metadata: [
                "request_id": "\(request.requestID)", "status": "\(refusal.status)",
                "reason": "\(refusal.error ?? "no_token"): \(refusal.description)",
            ])
        var challenge = "Bearer realm=\"mcp-host\""
        if let error = refusal.error { challenge += ", error=\"\(error)\", error_description=\"\(refusal.description)\"" }
        if let scope = refusal.scope { challenge += ", scope=\"\(scope)\"" }
        challenge += ", resource_metadata=\"\(metadata.metadataURL(for: request))\""
        let title = refusal.status == 403 ? "Forbidden" : refusal.status == 400 ? "Bad Request" : "Unauthorized"
        return .failure(GateRejection(
            HostResponse.error(refusal.status, "\(title): \(refusal.description)", headers: ["www-authenticate": challenge])))
    }
}

/// RFC 9728 OAuth 2.0 Protected Resource Metadata, served at
/// `/.well-known/oauth-protected-resource` and at the path-inserted variant
/// (`/.well-known/oauth-protected-resource/mcp` for the resource `https://host/mcp`).
public struct ProtectedResourceMetadata: Sendable {
    public static let wellKnownPrefix = "/.well-known/oauth-protected-resource"
    let settings: BearerSettings

    public init(settings: BearerSettings) { self.settings = settings }

    /// The resource identifier: configured, or the URL the client used (scheme from
    /// `X-Forwarded-Proto` behind a proxy or a Lambda Function URL).
    func resource(for request: HostRequest, mcpPath: String) -> String {
        if let resource = settings.resource { return resource }
        return origin(of: request) + mcpPath
    }

    func origin(of request: HostRequest) -> String {
        let proto = request.headers["x-forwarded-proto"]?.split(separator: ",").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        let scheme = proto == "https" ? "https" : "http"
        let host = request.headers["host"] ?? "localhost"
        return "\(scheme)://\(host)"
    }

    /// The metadata URL a 401 points to: the path variant for the resource's path.
    func metadataURL(for request: HostRequest) -> String {
        let resource = resource(for: request, mcpPath: request.path)
        guard let schemeEnd = resource.range(of: "://") else { return resource }
        let afterScheme = resource[schemeEnd.upperBound...]
        let pathStart = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let origin = resource[..<pathStart]
        let path = afterScheme[pathStart...]
        return origin + Self.wellKnownPrefix + (path == "/" ? "" : path)
    }

    public func handles(_ path: String) -> Bool {
        path == Self.wellKnownPrefix || path.hasPrefix(Self.wellKnownPrefix + "/")
    }

    /// The metadata document for the resource at `mcpPath`.
    public func response(for request: HostRequest, mcpPath: String) -> HostResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return HostResponse.error(405, "use GET", headers: ["allow": "GET, HEAD"])
        }
        let suffix = String(request.path.dropFirst(Self.wellKnownPrefix.count))
        // The path variant must name the resource this host serves.
        if !suffix.isEmpty && suffix != mcpPath && settings.resource.map({ URLPath.of($0) != suffix }) ?? true {
            return HostResponse.error(404, "no protected resource at \(suffix)")
        }
        var document: JSONObject = [:]
        document["resource"] = .string(resource(for: request, mcpPath: mcpPath))
        document["authorization_servers"] = .array(settings.authorizationServers.map(JSONValue.string))
        if !settings.requiredScopes.isEmpty {
            document["scopes_supported"] = .array(settings.requiredScopes.map(JSONValue.string))
        }
        document["bearer_methods_supported"] = .array([.string("header")])
        document["resource_name"] = .string(settings.resourceName)
        return HostResponse.json(200, .object(document), headers: ["cache-control": "max-age=300"])
    }
}

enum URLPath {
    /// The path of an absolute URL ("" for none).
    static func of(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "" }
        let rest = url[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        return String(rest[slash...])
    }
}
