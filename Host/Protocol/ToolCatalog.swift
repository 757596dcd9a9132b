import MCPJSON
import MCPPlugins

/// One tool as a tenant sees it: namespaced name, its definition, and the tenant's instance of
/// the plugin that serves it.
public struct ToolEntry: Sendable {
    /// `plugin.tool`
    public let name: String
    public let definition: ToolDefinition
    public let instance: PluginInstance
    /// The tools/list JSON of this tool, built once: with and without output schemas.
    let listing: JSONValue
    let listingWithoutOutputSchema: JSONValue

    public init(name: String, definition: ToolDefinition, instance: PluginInstance) {
        self.name = name
        self.definition = definition
        self.instance = instance
        var object: JSONObject = ["name": .string(name)]
        if let title = definition.title { object["title"] = .string(title) }
        if let description = definition.description { object["description"] = .string(description) }
        object["inputSchema"] = definition.inputSchema
        if let annotations = definition.annotations { object["annotations"] = annotations }
        listingWithoutOutputSchema = .object(object)
        if let outputSchema = definition.outputSchema { object["outputSchema"] = outputSchema }
        listing = .object(object)
    }
}

/// The tools of one tenant server, in deterministic (name) order. Immutable: a plugin reload
/// produces a new catalog; a session keeps the catalog it started with.
public final class ToolCatalog: Sendable {
    public let entries: [ToolEntry]
    private let index: [String: Int]
    /// Plugin instances, for /health and shutdown.
    public let instances: [PluginInstance]

    public init(instances: [PluginInstance]) {
        self.instances = instances
        var entries: [ToolEntry] = []
        for instance in instances {
            for tool in instance.image.manifest.tools {
                entries.append(ToolEntry(name: instance.image.name + "." + tool.name, definition: tool, instance: instance))
            }
        }
        entries.sort { $0.name < $1.name }
        self.entries = entries
        var index: [String: Int] = [:]
        for (offset, entry) in entries.enumerated() { index[entry.name] = offset }
        self.index = index
    }

    public func tool(named name: String) -> ToolEntry? {
        index[name].map { entries[$0] }
    }
}

/// The tenant a request belongs to, as the gate resolved it. The protocol layer asks it for the
/// tools to serve; how tenants are built and cached is the tenancy layer's business.
public protocol TenantHandle: Sendable {
    /// Stable, non-secret tenant id (a name from config, or a hash of a pass-through key).
    var tenantID: String { get }
    /// The tenant's current tool catalog (built on first use).
    func currentCatalog() async throws -> ToolCatalog
}
