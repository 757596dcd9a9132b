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
        var errors: [String: String]
    }
    private let built = NIOLockedValueBox<Built?>(nil)
    private let buildLock = NIOLock()

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
            var errors: [String: String] = [:]
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
                    let message = "configuration of plugin \(image.name) for tenant \(settings.id) is invalid: "
                        + violations.prefix(3).map(\.description).joined(separator: "; ")
                    errors[image.name] = message
                    logger.error("plugin instance not created", metadata: ["plugin": "\(image.name)", "error": "\(message)"])
                    continue
                }
                let token = InstanceToken(
                    pluginName: image.name, tenantID: settings.id, egressAllowList: settings.egress, logger: logger)
                do {
                    instances[image.sha256] = try PluginInstance(image: image, configuration: configuration, token: token)
                } catch {
                    errors[image.name] = "\(error)"
                    logger.error("plugin instance not created", metadata: ["plugin": "\(image.name)", "error": "\(error)"])
                }
            }
            let ordered = snapshot.images.compactMap { instances[$0.sha256] }
            let catalog = ToolCatalog(instances: ordered)
            built.withLockedValue {
                $0 = Built(generation: snapshot.generation, catalog: catalog, instancesBySHA: instances, errors: errors)
            }
            return catalog
        }
    }

    /// Plugins this tenant enables whose instance could not be created, with the reason.
    public var instanceErrors: [String: String] { built.withLockedValue { $0?.errors ?? [:] } }
}

/// Tenants by id; each tenant's server is built on first use.
public final class TenantRegistry: Sendable {
    private let directory: PluginDirectory
    private let logger: Logger
    private let settings: [String: TenantSettings]
    private let servers = NIOLockedValueBox<[String: TenantServer]>([:])

    public init(tenants: [TenantSettings], directory: PluginDirectory, logger: Logger) {
        self.directory = directory
        self.logger = logger
        settings = Dictionary(tenants.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var tenantIDs: [String] { settings.keys.sorted() }

    /// The server of tenant `id`, or nil when no such tenant is configured.
    public func server(for id: String) -> TenantServer? {
        guard let tenantSettings = settings[id] else { return nil }
        return servers.withLockedValue { servers in
            if let server = servers[id] { return server }
            let server = TenantServer(settings: tenantSettings, directory: directory, logger: logger)
            servers[id] = server
            return server
        }
    }
}
