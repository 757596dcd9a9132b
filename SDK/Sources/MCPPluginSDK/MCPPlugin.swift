/// A tool plugin: one value per tenant, built from that tenant's configuration.
///
/// ```swift
/// struct Weather: MCPPlugin {
///     struct Configuration: Decodable, Sendable { var apiURL: String }
///     static let name = "weather"
///     static let version = "1.0.0"
///     static let configurationSchema: JSONSchemaLiteral = #"{"type":"object", ...}"#
///     static let tools = [ToolSpec(name: "forecast", title: "Forecast", description: "...", inputSchema: #"{...}"#)]
///
///     let configuration: Configuration
///     let host: PluginHost
///     init(configuration: Configuration, host: PluginHost) { ... }
///
///     func call(_ tool: String, arguments: ToolArguments, context: ToolContext) async throws -> ToolResult {
///         switch tool {
///         case "forecast": ...
///         default: throw ToolError.unknownTool(tool)
///         }
///     }
/// }
///
/// @_cdecl("mcp_plugin_entry")
/// public func mcpPluginEntry() -> UnsafeRawPointer { MCPPluginExport.descriptor(for: Weather.self) }
/// ```
///
/// `call` runs in its own task, concurrently with other calls of the same instance; a
/// cancellation from the client cancels that task. What `call` throws becomes the call's status:
/// `ToolError` → a tool error the model sees, `CancellationError` → cancelled, a failure to decode
/// the arguments → invalid arguments (naming the field), `HostHTTPError` → a tool error, anything
/// else → an internal error.
public protocol MCPPlugin: Sendable {
    /// The per-tenant configuration, decoded from JSON that the host already validated against
    /// `configurationSchema`.
    associatedtype Configuration: Decodable & Sendable = NoConfiguration

    /// Tool namespace, `[a-z0-9_-]{1,64}` (clients see `<name>.<tool>`).
    static var name: String { get }
    /// Semantic version of the plugin.
    static var version: String { get }
    /// JSON Schema of `Configuration` (a JSON object schema).
    static var configurationSchema: JSONSchemaLiteral { get }
    /// Headers whose value the host copies into the configuration (pass-through credentials).
    static var credentialHeaders: [CredentialHeader] { get }
    /// The tools this plugin offers. Read once, when the host first loads the plugin.
    static var tools: [ToolSpec] { get }
    /// True when `call` does CPU-heavy work or blocking I/O: its calls then run on a Dispatch
    /// thread pool instead of the host's event loops (see `BlockingWorkExecutor`). Default false.
    static var performsBlockingWork: Bool { get }

    /// Builds the instance of one tenant. A thrown error refuses the configuration.
    init(configuration: Configuration, host: PluginHost) throws

    /// Runs `tool` (one of `tools`; the host validated `arguments` against its inputSchema).
    func call(_ tool: String, arguments: ToolArguments, context: ToolContext) async throws -> ToolResult
}

extension MCPPlugin {
    public static var credentialHeaders: [CredentialHeader] { [] }
    public static var performsBlockingWork: Bool { false }
}

extension MCPPlugin where Configuration == NoConfiguration {
    public static var configurationSchema: JSONSchemaLiteral { #"{"type":"object","additionalProperties":false}"# }
}

/// The configuration of a plugin that needs none.
public struct NoConfiguration: Decodable, Sendable {
    public init() {}
}

/// A JSON document written as a string literal (a JSON Schema, usually). The SDK checks it is a
/// JSON object when the plugin is loaded; an invalid one makes the plugin's init fail with a
/// message naming the tool.
public struct JSONSchemaLiteral: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var json: String
    public init(_ json: String) { self.json = json }
    public init(stringLiteral json: String) { self.json = json }
    public var description: String { json }
}

/// MCP tool annotations. Hints for clients; nil leaves a hint out of the manifest.
public struct ToolAnnotations: Sendable, Hashable {
    /// The tool does not modify its environment.
    public var readOnlyHint: Bool?
    /// The tool may perform destructive updates (meaningful only when not read-only).
    public var destructiveHint: Bool?
    /// Calling the tool again with the same arguments has no additional effect.
    public var idempotentHint: Bool?
    /// The tool interacts with an open world of external entities.
    public var openWorldHint: Bool?

    public init(readOnlyHint: Bool? = nil, destructiveHint: Bool? = nil, idempotentHint: Bool? = nil, openWorldHint: Bool? = nil) {
        self.readOnlyHint = readOnlyHint
        self.destructiveHint = destructiveHint
        self.idempotentHint = idempotentHint
        self.openWorldHint = openWorldHint
    }
}

/// One tool of the manifest.
public struct ToolSpec: Sendable, Hashable {
    /// `[A-Za-z0-9_-]{1,100}`, unique within the plugin (no '.': the host adds `<plugin>.`).
    public var name: String
    /// Human-readable name.
    public var title: String
    /// What the tool does, for the model.
    public var description: String
    /// JSON Schema of the arguments (`"type": "object"`).
    public var inputSchema: JSONSchemaLiteral
    /// JSON Schema of `structuredContent` (`"type": "object"`), when the tool returns one.
    public var outputSchema: JSONSchemaLiteral?
    public var annotations: ToolAnnotations?

    public init(
        name: String, title: String, description: String, inputSchema: JSONSchemaLiteral,
        outputSchema: JSONSchemaLiteral? = nil, annotations: ToolAnnotations? = nil
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
    }
}

/// A request header whose value the host puts into the tenant's configuration under `configKey`
/// (the header value *is* the upstream credential, e.g. `x-tiflux-api-key`).
public struct CredentialHeader: Sendable, Hashable {
    public var header: String
    public var configKey: String
    public init(header: String, configKey: String) {
        self.header = header
        self.configKey = configKey
    }
}
