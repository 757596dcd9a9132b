import MCPJSON

/// MCP tool annotations (hints only; clients must not rely on them for security).
public struct ToolAnnotations: Sendable {
    public var readOnlyHint: Bool?
    public var destructiveHint: Bool?
    public var idempotentHint: Bool?
    public var openWorldHint: Bool?
    public var title: String?
}

/// One tool as a plugin's manifest declares it, with its schemas compiled once at load.
public struct ToolDefinition: Sendable {
    public var name: String
    public var title: String?
    public var description: String?
    public var inputSchema: JSONValue
    public var outputSchema: JSONValue?
    public var annotations: JSONValue?
    public let inputValidator: CompiledSchema
    public let outputValidator: CompiledSchema?
}

/// A header whose value a plugin takes as its upstream credential (TiFlux-style pass-through).
public struct CredentialHeader: Sendable, Equatable {
    public var header: String
    public var configKey: String
}

/// The parsed manifest of a plugin image.
public struct PluginManifest: Sendable {
    public var tools: [ToolDefinition]
    public var configSchema: JSONValue
    public let configValidator: CompiledSchema
    public var credentialHeaders: [CredentialHeader]

    /// Tool names: `[A-Za-z0-9_.-]{1,128}` once namespaced; the plugin part may not contain '.'.
    static func isValidToolName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 100 else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    public init(json: JSONValue) throws(PluginManifestError) {
        guard let object = json.objectValue else { throw .init("the manifest is not a JSON object") }
        guard let toolsJSON = object["tools"]?.arrayValue else { throw .init("the manifest has no \"tools\" array") }
        var tools: [ToolDefinition] = []
        var seen = Set<String>()
        for (index, toolJSON) in toolsJSON.enumerated() {
            guard let tool = toolJSON.objectValue else { throw .init("tools[\(index)] is not an object") }
            guard let name = tool["name"]?.stringValue else { throw .init("tools[\(index)] has no string \"name\"") }
            guard Self.isValidToolName(name) else {
                throw .init("tool name \"\(name)\" must match [A-Za-z0-9_-]{1,100}")
            }
            guard seen.insert(name).inserted else { throw .init("tool \"\(name)\" is declared twice") }
            let inputSchema = tool["inputSchema"] ?? ["type": "object"]
            guard inputSchema.objectValue?["type"]?.stringValue == "object" else {
                throw .init("tool \"\(name)\": inputSchema must be an object schema with \"type\": \"object\"")
            }
            let inputValidator: CompiledSchema
            do { inputValidator = try CompiledSchema(inputSchema) } catch {
                throw .init("tool \"\(name)\": invalid inputSchema: \(error)")
            }
            var outputValidator: CompiledSchema?
            let outputSchema = tool["outputSchema"]
            if let outputSchema {
                guard outputSchema.objectValue?["type"]?.stringValue == "object" else {
                    throw .init("tool \"\(name)\": outputSchema must be an object schema with \"type\": \"object\"")
                }
                do { outputValidator = try CompiledSchema(outputSchema) } catch {
                    throw .init("tool \"\(name)\": invalid outputSchema: \(error)")
                }
            }
            tools.append(
                ToolDefinition(
                    name: name, title: tool["title"]?.stringValue, description: tool["description"]?.stringValue,
                    inputSchema: inputSchema, outputSchema: outputSchema, annotations: tool["annotations"],
                    inputValidator: inputValidator, outputValidator: outputValidator))
        }
        self.tools = tools
        configSchema = object["configSchema"] ?? ["type": "object"]
        do { configValidator = try CompiledSchema(configSchema) } catch {
            throw .init("invalid configSchema: \(error)")
        }
        var credentialHeaders: [CredentialHeader] = []
        for entry in object["credentialHeaders"]?.arrayValue ?? [] {
            guard let header = entry["header"]?.stringValue, let key = entry["configKey"]?.stringValue else {
                throw .init("credentialHeaders entries need string \"header\" and \"configKey\"")
            }
            credentialHeaders.append(CredentialHeader(header: header.lowercased(), configKey: key))
        }
        self.credentialHeaders = credentialHeaders
    }
}

public struct PluginManifestError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
