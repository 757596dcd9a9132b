import MCPPluginSDK
import S3DeltaFormats

/// Where a tool's `source` + `path` arguments point: the store and the key inside it. The
/// plugin's configured sources implement it; a path that escapes its root is refused here.
protocol ObjectLocator: Sendable {
    /// `source` nil means the tenant's only source (an error when it has several).
    func locate(source: String?, path: String) throws -> (store: any ObjectStore, key: String)
}

/// A group of tools implemented in one file; the plugin lists every family's specs and routes a
/// call to the family that declared the tool.
protocol ToolFamily {
    static var specs: [ToolSpec] { get }
    static func call(_ tool: String, arguments: ToolArguments, locator: any ObjectLocator, context: ToolContext)
        async throws -> ToolResult
}
