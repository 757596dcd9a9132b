import MCPPluginSDK

/// The reference plugin: small tools that exercise every part of the SDK (typed arguments,
/// structured results, progress, cancellation, per-tenant configuration).
struct EchoPlugin: MCPPlugin {
    struct Configuration: Decodable, Sendable {
        var greeting = "hello"

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            greeting = try container.decodeIfPresent(String.self, forKey: .greeting) ?? "hello"
        }
        enum CodingKeys: String, CodingKey { case greeting }
    }

    static let name = "echo"
    static let version = "1.0.0"
    static let configurationSchema: JSONSchemaLiteral = """
        {"type":"object","properties":{"greeting":{"type":"string"}},"additionalProperties":false}
        """

    /// Every tool here only computes: no side effects, same answer for the same input.
    private static let pure = ToolAnnotations(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)

    static let tools = [
        ToolSpec(
            name: "echo", title: "Echo", description: "Returns the message unchanged, with its length in Unicode scalars.",
            inputSchema: """
                {"type":"object","properties":{"message":{"type":"string","description":"Text to send back"}},
                 "required":["message"],"additionalProperties":false}
                """,
            outputSchema: """
                {"type":"object","properties":{"message":{"type":"string"},"length":{"type":"integer","minimum":0}},
                 "required":["message","length"]}
                """,
            annotations: pure),
        ToolSpec(
            name: "add", title: "Add", description: "Adds two numbers.",
            inputSchema: """
                {"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},
                 "required":["a","b"],"additionalProperties":false}
                """,
            outputSchema: #"{"type":"object","properties":{"sum":{"type":"number"}},"required":["sum"]}"#,
            annotations: pure),
        ToolSpec(
            name: "count", title: "Count",
            description: "Counts from 1 to `to`, waiting `delay_ms` between steps and reporting progress at each one.",
            inputSchema: """
                {"type":"object","properties":{
                   "to":{"type":"integer","minimum":1,"maximum":100},
                   "delay_ms":{"type":"integer","minimum":0,"maximum":1000,"default":0}},
                 "required":["to"],"additionalProperties":false}
                """,
            outputSchema: #"{"type":"object","properties":{"counted":{"type":"integer"}},"required":["counted"]}"#,
            annotations: pure),
        ToolSpec(
            name: "whoami", title: "Who am I", description: "Tells which tenant the call runs for, with the tenant's greeting.",
            inputSchema: #"{"type":"object","properties":{},"additionalProperties":false}"#,
            outputSchema: """
                {"type":"object","properties":{"tenant":{"type":"string"},"greeting":{"type":"string"}},
                 "required":["tenant","greeting"]}
                """,
            annotations: pure),
    ]

    let greeting: String

    init(configuration: Configuration, host: PluginHost) {
        greeting = configuration.greeting
    }

    func call(_ tool: String, arguments: ToolArguments, context: ToolContext) async throws -> ToolResult {
        switch tool {
        case "echo":
            let input = try arguments.decode(EchoInput.self)
            return .structured(EchoOutput(message: input.message, length: input.message.unicodeScalars.count), text: input.message)
        case "add":
            let input = try arguments.decode(AddInput.self)
            let sum = input.a + input.b
            return .structured(AddOutput(sum: sum), text: Self.format(sum))
        case "count":
            let input = try arguments.decode(CountInput.self)
            let delay = input.delay_ms ?? 0
            // The host already enforced the schema's bounds; a plugin still must not trust them blindly.
            guard (1...100).contains(input.to) else { throw ToolError.invalidArguments("argument 'to' must be 1...100") }
            guard (0...1000).contains(delay) else { throw ToolError.invalidArguments("argument 'delay_ms' must be 0...1000") }
            for step in 1...input.to {
                if delay > 0 {
                    try await Task.sleep(for: .milliseconds(delay))
                } else {
                    try Task.checkCancellation()
                }
                context.reportProgress(Double(step), total: Double(input.to), message: "step \(step) of \(input.to)")
            }
            return .structured(CountOutput(counted: input.to), text: "counted to \(input.to)")
        case "whoami":
            let tenant = context.tenant
            return .structured(WhoAmIOutput(tenant: tenant, greeting: greeting), text: "\(greeting), \(tenant)")
        default:
            throw ToolError.unknownTool(tool)
        }
    }

    /// `3` rather than `3.0` for whole numbers, like the JSON encoder writes them.
    static func format(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return String(value)
    }
}

struct EchoInput: Decodable { var message: String }
struct EchoOutput: Encodable { var message: String; var length: Int }
struct AddInput: Decodable { var a: Double; var b: Double }
struct AddOutput: Encodable { var sum: Double }
struct CountInput: Decodable { var to: Int; var delay_ms: Int? }
struct CountOutput: Encodable { var counted: Int }
struct WhoAmIOutput: Encodable { var tenant: String; var greeting: String }

@_cdecl("mcp_plugin_entry")
public func mcpPluginEntry() -> UnsafeRawPointer { MCPPluginExport.descriptor(for: EchoPlugin.self) }
