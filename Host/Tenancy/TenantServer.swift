import Logging
import MCPJSON
import MCPPlugins
import MCPProtocol
import NIOConcurrencyHelpers

/// A tenant's settings, as configuration gives them.
public struct TenantSettings: Sendable {
    /// Non-secret id used in logs, metrics and session binding.
    public var id: String
    /// Plugin name → that plugin's configuration for this tenant. `nil` enables every loaded plugin
    /// with an empty configuration (the embedded single-tenant default).
    public var plugins: [String: JSONValue]?
    /// Hosts this tenant's plugin instances may reach (`*.example.com` allowed). `nil`: any.
    public var egress: [String]?

    public init(id: String, plugins: [String: JSONValue]? = nil, egress: [String]? = nil) {
        self.id = id
        self.plugins = plugins
        self.egress = egress
    }
}

/// One tenant's server: that tenant's plugin instances, built from its settings only, and the
/// tool catalog over them. The catalog is rebuilt when the plugin directory changes; instances of
/// unchanged plugin images are kept, so running sessions are not disturbed.
public final class TenantServer: TenantHandle {
    public let settings: TenantSettings
    public var tenantID: String { settings.id }
    private let directory: PluginDirectory
    private let logger: Logger
    private struct Built {
        var generation: Int
        var catalog: ToolCatalog
        var instancesBySHA: [String: PluginInstance]
    }
    private let built = NIOLockedValueBox<Built?>(nil)
    private let buildLock = NIOLock()
    private let created = NIOLockedValueBox(0)

    /// How many plugin instances this server has created (for tests and metrics).
    public var instancesCreated: Int { created.withLockedValue { $0 } }

    public init(settings: TenantSettings, directory: PluginDirectory, logger: Logger) {
        self.settings = settings
        self.directory = directory
        var logger = logger
        logger[metadataKey: "tenant"] = .string(settings.id)
        self.logger = logger
    }

    public func currentCatalog() async throws -> ToolCatalog {
        catalog()
    }

    /// The catalog for the directory's current generation, built at most once per generation
    /// even when many requests ask at the same moment.
    public func catalog() -> ToolCatalog {
        let generation = directory.generation
        if let current = built.withLockedValue({ $0?.generation == generation ? $0?.catalog : nil }) { return current }
        return buildLock.withLock {
            let snapshot = directory.snapshot
            if let current = built.withLockedValue({ $0 }), current.generation == snapshot.generation { return current.catalog }
            let previous = built.withLockedValue { $0?.instancesBySHA } ?? [:]
            var instances: [String: PluginInstance] = [:]
            for image in snapshot.images {
                let configuration: JSONValue
                if let plugins = settings.plugins {
                    guard let configured = plugins[image.name] else { continue }
                    configuration = configured
                } else {
                    configuration = .object([:])
                }
                if let existing = previous[image.sha256] {
                    instances[image.sha256] = existing
                    continue
                }
                let violations = image.manifest.configValidator.validate(configuration)
                if !violations.isEmpty {
                    // A violation under a pass-through credential would quote the key: say only where and which check.
                    let secrets = image.manifest.credentialHeaders.map { "/" + $0.configKey }
                    let message = "configuration of plugin \(image.name) for tenant \(settings.id) is invalid: "
                        + violations.prefix(3).map { violation in
                            secrets.contains(where: { violation.instancePath == $0 || violation.instancePath.hasPrefix($0 + "/") })
                                ? "\(violation.instancePath): fails \"\(violation.keyword)\" (value withheld: it is a credential)"
                                : violation.description
                        }.joined(separator: "; ")
                    if settings.plugins == nil {
                        // Enabled only implicitly (no plugin settings for this tenant): a plugin that needs
                        // settings, like prometheus without a url, is simply not served. Not an error.
                        logger.notice(
                            "plugin not enabled: it needs settings", metadata: ["plugin": "\(image.name)", "detail": "\(message)"])
                    } else {
                        logger.error("plugin instance not created", metadata: ["plugin": "\(image.name)", "error": "\(message)"])
                    }
                    continue
                }
                let token = InstanceToken(
                    pluginName: image.name, tenantID: settings.id, egressAllowList: settings.egress, logger: logger)
                do {
                    instances[image.sha256] = try PluginInstance(image: image, configuration: configuration, token: token)
                    created.withLockedValue { $0 += 1 }
                } catch {
                    logger.error("plugin instance not created", metadata: ["plugin": "\(image.name)", "error": "\(error)"])
                }
            }
            let ordered = snapshot.images.compactMap { instances[$0.sha256] }
            let catalog = ToolCatalog(instances: ordered)
            built.withLockedValue {
                $0 = Built(generation: snapshot.generation, catalog: catalog, instancesBySHA: instances)
            }
            return catalog
        }
    }
}

/// Tenants by id. A tenant's server is built from its settings on first use and cached: at most
/// `limits.maxTenants` at once (the least recently used is evicted beyond that), and one unused
/// for `limits.idleTimeout` is evicted by `expireIdle()`. Evicting drops the registry's reference:
/// the server's plugin instances are destroyed as soon as no running session or call still uses
/// them. Concurrent first requests for one tenant get the same server, built once.
public final class TenantRegistry: Sendable {
    public struct Limits: Sendable {
        public var maxTenants: Int
        public var idleTimeout: Duration
        public init(maxTenants: Int = 1000, idleTimeout: Duration = .seconds(900)) {
            self.maxTenants = max(1, maxTenants)
            self.idleTimeout = idleTimeout
        }
    }

    private struct Entry {
        var server: TenantServer
        var lastUsed: ContinuousClock.Instant
        var tick: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var tick: UInt64 = 0
        var built: Int = 0
        var evicted: Int = 0
    }

    private let directory: PluginDirectory
    private let logger: Logger
    private let settings: [String: TenantSettings]
    public let limits: Limits
    private let state = NIOLockedValueBox(State())

    public init(tenants: [TenantSettings], directory: PluginDirectory, logger: Logger, limits: Limits = Limits()) {
        self.directory = directory
        self.logger = logger
        self.limits = limits
        settings = Dictionary(tenants.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var tenantIDs: [String] { settings.keys.sorted() }

    /// The server of tenant `id`, built now if it is not cached, or nil when no such tenant is configured.
    public func server(for id: String) -> TenantServer? {
        guard let tenantSettings = settings[id] else { return nil }
        return cachedServer(id: id) { tenantSettings }
    }

    /// Request headers that carry a pass-through credential for some loaded plugin (lowercased, sorted).
    public var passThroughHeaders: [String] {
        Array(Set(directory.snapshot.images.flatMap { $0.manifest.credentialHeaders.map(\.header) })).sorted()
    }

    /// The server of a pass-through tenant: `id` names it (a hash of its credentials, chosen by the
    /// caller), `credentials` maps lowercased header names to the values the request carried. Its
    /// settings are those of the configured tenant `template`, except that each plugin declaring
    /// credential headers gets the values in its configuration under the declared keys, and is not
    /// enabled at all when the request lacks one of them. The credentials go to this tenant's
    /// instances only.
    public func passThroughServer(id: String, template: String, credentials: [String: String]) -> TenantServer? {
        guard let base = settings[template] else { return nil }
        return cachedServer(id: id) {
            var plugins: [String: JSONValue] = [:]
            for image in directory.snapshot.images {
                var configuration: JSONObject
                if let configured = base.plugins {
                    guard let value = configured[image.name] else { continue }
                    configuration = value.objectValue ?? [:]
                } else {
                    configuration = [:]
                }
                var complete = true
                for credential in image.manifest.credentialHeaders {
                    guard let value = credentials[credential.header] else {
                        complete = false
                        break
                    }
                    configuration[credential.configKey] = .string(value)
                }
                if complete { plugins[image.name] = .object(configuration) }
            }
            return TenantSettings(id: id, plugins: plugins, egress: base.egress)
        }
    }

    private func cachedServer(id: String, settings makeSettings: () -> TenantSettings) -> TenantServer {
        let now = ContinuousClock.now
        var evicted: [TenantServer] = []
        var isNew = false
        let server = state.withLockedValue { state -> TenantServer in
            state.tick &+= 1
            if var entry = state.entries[id] {
                entry.lastUsed = now
                entry.tick = state.tick
                state.entries[id] = entry
                return entry.server
            }
            let server = TenantServer(settings: makeSettings(), directory: directory, logger: logger)
            state.built += 1
            isNew = true
            while state.entries.count >= limits.maxTenants,
                let oldest = state.entries.min(by: { $0.value.tick < $1.value.tick })
            {
                state.entries[oldest.key] = nil
                state.evicted += 1
                evicted.append(oldest.value.server)
            }
            state.entries[id] = Entry(server: server, lastUsed: now, tick: state.tick)
            return server
        }
        for old in evicted {
            logger.info("tenant evicted", metadata: ["tenant": "\(old.tenantID)", "reason": "max_tenants"])
        }
        if isNew { logger.info("tenant server created", metadata: ["tenant": "\(id)"]) }
        return server
    }

    /// Evicts tenant servers unused for longer than `limits.idleTimeout`; returns how many.
    @discardableResult
    public func expireIdle(now: ContinuousClock.Instant = .now) -> Int {
        let idle = limits.idleTimeout
        let expired = state.withLockedValue { state -> [TenantServer] in
            let old = state.entries.filter { now - $0.value.lastUsed > idle }
            for key in old.keys { state.entries[key] = nil }
            state.evicted += old.count
            return old.values.map(\.server)
        }
        for server in expired {
            logger.info("tenant evicted", metadata: ["tenant": "\(server.tenantID)", "reason": "idle"])
        }
        return expired.count
    }

    /// Ids of the tenant servers currently built, most recently used first.
    public var cachedTenantIDs: [String] {
        state.withLockedValue { $0.entries.sorted { $0.value.tick > $1.value.tick }.map(\.key) }
    }

    /// Tenant servers built and evicted since start (for tests and metrics).
    public var counters: (built: Int, evicted: Int) { state.withLockedValue { ($0.built, $0.evicted) } }
}
