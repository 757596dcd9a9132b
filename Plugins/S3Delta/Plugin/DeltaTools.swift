import MCPPluginSDK

// Seed: the Delta tools land here (the plugin lists every family's specs).
enum DeltaTools: ToolFamily {
    static let specs: [ToolSpec] = []
    static func call(_ tool: String, arguments: ToolArguments, locator: any ObjectLocator, context: ToolContext)
        async throws -> ToolResult
    {
        throw ToolError.unknownTool(tool)
    }
}
