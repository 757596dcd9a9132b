import Crypto
import Logging
import MCPHostCore
import MCPProtocol
import MCPTenancy
import NIOConcurrencyHelpers

/// SHA-256 of an API key as lowercase hex: what `mcp-host keys hash` prints and what
/// `tenants[].api_key_sha256` lists.
public enum APIKeyDigest {
    public static func hex(_ key: String) -> String {
        hex(bytes: Array(SHA256.hash(data: Array(key.utf8))))
    }

    static func hex(bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// 64 hex digits → 32 bytes, or nil.
    static func bytes(hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}

/// `auth: api_key`: the tenant is the one whose registered key digest matches the SHA-256 of the
/// key in the configured header. Only that header is consulted (never the query string); the key
/// itself is never stored or logged, only its digest.
///
/// The digest is looked up in a hash table rather than compared against every registered digest
/// in constant time: the lookup's timing depends only on SHA-256 output, which a caller cannot
/// steer towards a registered digest, so it reveals nothing usable about any key — and a linear
/// constant-time scan cost ~100k instructions a request with 1,000 tenants (0.63× the
/// single-tenant rate in scripts/bench-tenants).
public struct APIKeyResolver: TenantResolver {
    public let header: String
    /// Registered digest → tenant id.
    private let owners: [KeyDigest: String]
    private let registry: TenantRegistry
    private let logger: Logger

    /// A SHA-256 digest as four words: a cheap, exact dictionary key.
    struct KeyDigest: Hashable {
        var a, b, c, d: UInt64

        init(_ bytes: some Sequence<UInt8>) {
            var words = [UInt64](repeating: 0, count: 4)
            for (index, byte) in bytes.enumerated() where index < 32 { words[index / 8] = words[index / 8] << 8 | UInt64(byte) }
            (a, b, c, d) = (words[0], words[1], words[2], words[3])
        }
    }

    /// `keys`: (SHA-256 hex of a key, tenant id) pairs. Throws on a malformed digest.
    public init(header: String, keys: [(sha256: String, tenantID: String)], registry: TenantRegistry, logger: Logger) throws {
        self.header = header.lowercased()
        var owners: [KeyDigest: String] = [:]
        for (sha256, tenantID) in keys {
            guard let bytes = APIKeyDigest.bytes(hex: sha256) else {
                throw GateConfigurationError(description: "API key digest for tenant \(tenantID) is not 64 hex digits")
            }
            owners[KeyDigest(bytes)] = tenantID
        }
        self.owners = owners
        self.registry = registry
        self.logger = logger
    }

    public func resolve(_ request: HostRequest) -> Result<TenantHandle, GateRejection> {
        let count = request.headers.count(of: header)
        guard count > 0, let key = request.headers[header], !key.isEmpty else {
            return refuse(request, reason: "missing API key", message: "Unauthorized: send your API key in the \(header) header")
        }
        guard count == 1 else {
            return refuse(request, reason: "several API key headers", message: "Unauthorized: send exactly one \(header) header")
        }
        guard let owner = match(key) else {
            return refuse(request, reason: "unknown API key", message: "Unauthorized: the API key in the \(header) header is not valid")
        }
        guard let server = registry.server(for: owner) else {
            return refuse(request, reason: "tenant not configured", message: "Unauthorized: the API key in the \(header) header is not valid")
        }
        return .success(server)
    }

    /// The tenant whose registered digest equals SHA-256(key).
    func match(_ key: String) -> String? {
        owners[KeyDigest(SHA256.hash(data: Array(key.utf8)))]
    }

    private func refuse(_ request: HostRequest, reason: String, message: String) -> Result<TenantHandle, GateRejection> {
        logger.notice("request refused", metadata: ["request_id": "\(request.requestID)", "status": "401", "reason": "\(reason)"])
        return .failure(
            GateRejection(
                HostResponse.error(401, message, headers: ["www-authenticate": "ApiKey realm=\"mcp-host\", header=\"\(header)\""])))
    }
}

public struct GateConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// A token bucket per tenant: `ratePerSecond` requests on average, `burst` at once. Buckets live
/// only here (nothing shared across tenants); a bucket that has refilled completely is the same
/// as no bucket, so those are dropped when the table grows.
public final class TenantRateLimiter: Sendable {
    public let ratePerSecond: Double
    public let burst: Double

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var pruneAt: Int
    }

    private let state: NIOLockedValueBox<State>
    private let minimumPruneAt: Int

    public init(ratePerSecond: Double, burst: Int, pruneAt: Int = 10_000) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst > 0 ? Double(burst) : max(1, ratePerSecond.rounded(.up))
        minimumPruneAt = pruneAt
        state = NIOLockedValueBox(State(pruneAt: pruneAt))
    }

    /// Takes one token from `tenant`'s bucket: nil when the request may go ahead, otherwise
    /// whole seconds until a token is available (for `Retry-After`).
    public func acquire(_ tenant: String, now: ContinuousClock.Instant = .now) -> Int? {
        state.withLockedValue { state in
            var bucket = state.buckets[tenant] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + Self.seconds(now - bucket.updated) * ratePerSecond)
            bucket.updated = now
            let wait: Int?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                wait = nil
            } else {
                wait = max(1, Int(((1 - bucket.tokens) / ratePerSecond).rounded(.up)))
            }
            state.buckets[tenant] = bucket
            if state.buckets.count > state.pruneAt {
                let rate = ratePerSecond, burst = burst
                state.buckets = state.buckets.filter { $0.value.tokens + Self.seconds(now - $0.value.updated) * rate < burst }
                state.pruneAt = max(minimumPruneAt, state.buckets.count * 2)
            }
            return wait
        }
    }

    /// Buckets currently held (for tests).
    public var bucketCount: Int { state.withLockedValue { $0.buckets.count } }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// `auth: pass_through` (the TiFlux model): the value of a plugin's credential header *is* the
/// upstream credential. The tenant id is a hash of the credential header values the request
/// carries (`pt-` + 32 hex digits), so equal keys share a tenant and different keys never do; the
/// values are handed only to that tenant's plugin instances (see
/// `TenantRegistry.passThroughServer`), never logged.
public struct PassThroughResolver: TenantResolver {
    private let registry: TenantRegistry
    private let template: String
    private let logger: Logger

    /// `template`: the configured tenant whose settings every pass-through tenant starts from.
    public init(registry: TenantRegistry, template: String, logger: Logger) {
        self.registry = registry
        self.template = template
        self.logger = logger
    }

    public func resolve(_ request: HostRequest) -> Result<TenantHandle, GateRejection> {
        let headers = registry.passThroughHeaders
        var credentials: [String: String] = [:]
        var hasher = SHA256()
        for header in headers {
            let count = request.headers.count(of: header)
            guard count > 0, let value = request.headers[header], !value.isEmpty else { continue }
            guard count == 1 else {
                return refuse(request, headers: headers, reason: "several credential headers", message: "Unauthorized: send exactly one \(header) header")
            }
            credentials[header] = value
            hasher.update(data: Array(header.utf8) + [0] + Array(value.utf8) + [0])
        }
        guard !credentials.isEmpty else {
            let expected = headers.isEmpty ? "no loaded plugin declares a credential header" : "send your key in \(headers.joined(separator: " or "))"
            return refuse(request, headers: headers, reason: "missing credential", message: "Unauthorized: \(expected)")
        }
        let id = "pt-" + APIKeyDigest.hex(bytes: Array(hasher.finalize()).prefix(16).map { $0 })
        guard let server = registry.passThroughServer(id: id, template: template, credentials: credentials) else {
            return refuse(request, headers: headers, reason: "no template tenant", message: "Unauthorized: no tenant is configured")
        }
        return .success(server)
    }

    private func refuse(_ request: HostRequest, headers: [String], reason: String, message: String) -> Result<TenantHandle, GateRejection> {
        logger.notice("request refused", metadata: ["request_id": "\(request.requestID)", "status": "401", "reason": "\(reason)"])
        var response = HostResponse.error(401, message)
        if let first = headers.first {
            response.headers.add("www-authenticate", "ApiKey realm=\"mcp-host\", header=\"\(first)\"")
        }
        return .failure(GateRejection(response))
    }
}
