internal import CMCPPlugin

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns an `MCPPlugin` type into the C descriptor the host loads. A plugin exports it with one line:
///
/// ```swift
/// @_cdecl("mcp_plugin_entry")
/// public func mcpPluginEntry() -> UnsafeRawPointer { MCPPluginExport.descriptor(for: EchoPlugin.self) }
/// ```
public enum MCPPluginExport {
    /// The plugin's `mcp_plugin_descriptor`, built (with its manifest) on the first call and kept
    /// for the life of the process — the host never unloads a plugin, so it is never freed.
    /// Later calls return the same pointer.
    public static func descriptor<Plugin: MCPPlugin>(for plugin: Plugin.Type) -> UnsafeRawPointer {
        let address = exported.withLock { exported -> UInt in
            if exported.descriptor != 0 { return exported.descriptor }
            let manifest = Manifest(Plugin.self)
            let toolNames = Set(Plugin.tools.map(\.name))
            exported.problems = manifest.problems
            exported.makeInstance = { configuration, token in
                let decoded: Plugin.Configuration
                do {
                    decoded = try sharedDecoder.decode(Plugin.Configuration.self, from: configuration)
                } catch let error as DecodingError {
                    throw ToolError.invalidArguments(describe(error, in: configuration, field: "configuration key", whole: "configuration"))
                }
                let plugin = try Plugin(configuration: decoded, host: PluginHost(token: token))
                return PluginInstance(plugin: plugin, toolNames: toolNames)
            }
            let descriptor = UnsafeMutablePointer<mcp_plugin_descriptor>.allocate(capacity: 1)
            descriptor.initialize(to: makeDescriptor(name: Plugin.name, version: Plugin.version, manifest: manifest.json))
            exported.descriptor = UInt(bitPattern: descriptor)
            return exported.descriptor
        }
        return UnsafeRawPointer(bitPattern: address)!
    }
}

/// The one exported plugin of this image. Each plugin `.so` embeds its own SDK copy, so there is
/// exactly one.
private struct Exported {
    var descriptor: UInt = 0
    var problems: [String] = []
    var makeInstance: (@Sendable (Data, UnsafeMutableRawPointer?) throws -> InstanceHandle)?
}
private let exported = Locked(Exported())

private func makeDescriptor(name: String, version: String, manifest: String) -> mcp_plugin_descriptor {
    var d = mcp_plugin_descriptor()
    d.abi_version = MCP_PLUGIN_ABI_VERSION
    d.struct_size = UInt32(MemoryLayout<mcp_plugin_descriptor>.size)
    d.name = leakedCString(name)
    d.version = leakedCString(version)
    d.sdk_id = leakedCString(swiftPluginSDKID())
    d.manifest_json = leakedCString(manifest)
    d.`init` = { services, outError, outErrorLength in
        let problem: String? = {
            guard let services else { return "init: no host services table" }
            let table = services.pointee
            guard table.abi_version == MCP_PLUGIN_ABI_VERSION else {
                return "the host speaks plugin ABI v\(table.abi_version), this plugin v\(MCP_PLUGIN_ABI_VERSION)"
            }
            guard Int(table.struct_size) >= MemoryLayout<mcp_host_services>.size else {
                return "the host services table is \(table.struct_size) bytes, this plugin needs \(MemoryLayout<mcp_host_services>.size)"
            }
            let problems = exported.withLock { $0.problems }
            guard problems.isEmpty else { return "invalid plugin definition: " + problems.joined(separator: "; ") }
            hostServices = services
            return nil
        }()
        guard let problem else { return MCP_STATUS_OK }
        fail(problem, outError, outErrorLength)
        return MCP_STATUS_INTERNAL_ERROR
    }
    d.create_instance = { config, configLength, token, outInstance, outError, outErrorLength in
        guard let makeInstance = exported.withLock({ $0.makeInstance }), let outInstance else {
            fail("create_instance before the descriptor was built", outError, outErrorLength)
            return MCP_STATUS_INTERNAL_ERROR
        }
        let json = config.flatMap { configLength > 0 ? Data(bytes: $0, count: configLength) : nil } ?? Data("{}".utf8)
        do {
            let instance = try makeInstance(json, token)
            outInstance.pointee = Unmanaged.passRetained(instance).toOpaque()
            return MCP_STATUS_OK
        } catch let error as ToolError {
            fail(error.message, outError, outErrorLength)
            return MCP_STATUS_INVALID_ARGUMENTS
        } catch {
            fail(String(describing: error), outError, outErrorLength)
            return MCP_STATUS_INTERNAL_ERROR
        }
    }
    d.destroy_instance = { instance in
        guard let instance else { return }
        let handle = Unmanaged<InstanceHandle>.fromOpaque(instance)
        // Calls still running hold their own reference; they finish (cancelled) before the
        // plugin value is released.
        handle.takeUnretainedValue().cancelAll()
        handle.release()
    }
    d.call = { instance, call in
        guard let instance, let call else { return }
        Unmanaged<InstanceHandle>.fromOpaque(instance).takeUnretainedValue().start(call)
    }
    d.cancel = { instance, callID in
        guard let instance else { return }
        Unmanaged<InstanceHandle>.fromOpaque(instance).takeUnretainedValue().cancel(callID)
    }
    d.free_buf = { buffer in free(buffer) }
    return d
}

private func fail(
    _ message: String, _ outError: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<Int>?
) {
    let (buffer, length) = mallocCopy(message)
    if let outError, let outLength {
        outError.pointee = buffer
        outLength.pointee = length
    } else {
        free(buffer)
    }
}

/// The manifest JSON of a plugin type, and what is wrong with its definition (reported by `init`,
/// so the host refuses the plugin with a message naming the tool).
struct Manifest {
    var json = ""
    var problems: [String] = []

    init<Plugin: MCPPlugin>(_ plugin: Plugin.Type) {
        let name = Plugin.name
        if name.isEmpty || name.utf8.count > 64 || !name.utf8.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) {
            problems.append("plugin name '\(name)' must match [a-z0-9_-]{1,64}")
        }
        if Plugin.version.isEmpty { problems.append("plugin version is empty") }

        var out: [UInt8] = []
        JSONText.append(#"{"tools":["#, to: &out)
        var seen = Set<String>()
        for (index, tool) in Plugin.tools.enumerated() {
            if !Self.isValidToolName(tool.name) {
                problems.append("tool name '\(tool.name)' must match [A-Za-z0-9_-]{1,100}")
            }
            if !seen.insert(tool.name).inserted { problems.append("tool '\(tool.name)' is declared twice") }
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.append(#"{"name":"#, to: &out)
            JSONText.appendString(tool.name, to: &out)
            JSONText.append(#","title":"#, to: &out)
            JSONText.appendString(tool.title, to: &out)
            JSONText.append(#","description":"#, to: &out)
            JSONText.appendString(tool.description, to: &out)
            JSONText.append(#","inputSchema":"#, to: &out)
            out.append(contentsOf: schema(tool.inputSchema, "tool '\(tool.name)' inputSchema", requireObjectType: true).utf8)
            if let output = tool.outputSchema {
                JSONText.append(#","outputSchema":"#, to: &out)
                out.append(contentsOf: schema(output, "tool '\(tool.name)' outputSchema", requireObjectType: true).utf8)
            }
            if let annotations = tool.annotations {
                JSONText.append(#","annotations":{"#, to: &out)
                var first = true
                for (key, value) in [
                    ("readOnlyHint", annotations.readOnlyHint), ("destructiveHint", annotations.destructiveHint),
                    ("idempotentHint", annotations.idempotentHint), ("openWorldHint", annotations.openWorldHint),
                ] {
                    guard let value else { continue }
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    JSONText.appendString(key, to: &out)
                    out.append(contentsOf: (value ? ":true" : ":false").utf8)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "}"))
        }
        JSONText.append(#"],"configSchema":"#, to: &out)
        out.append(contentsOf: schema(Plugin.configurationSchema, "configurationSchema", requireObjectType: false).utf8)
        let credentialHeaders = Plugin.credentialHeaders
        if !credentialHeaders.isEmpty {
            JSONText.append(#","credentialHeaders":["#, to: &out)
            for (index, header) in credentialHeaders.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.append(#"{"header":"#, to: &out)
                JSONText.appendString(header.header, to: &out)
                JSONText.append(#","configKey":"#, to: &out)
                JSONText.appendString(header.configKey, to: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        json = String(decoding: out, as: UTF8.self)
    }

    /// The schema minified, or `{"type":"object"}` (with a problem recorded) when it is not a JSON
    /// object, so the manifest stays parseable and `init` can name the culprit.
    private mutating func schema(_ literal: JSONSchemaLiteral, _ what: String, requireObjectType: Bool) -> String {
        let fallback = #"{"type":"object"}"#
        guard let value = try? sharedDecoder.decode(AnyJSON.self, from: Data(literal.json.utf8)) else {
            problems.append("\(what) is not valid JSON")
            return fallback
        }
        guard case .object(let object) = value else {
            problems.append("\(what) is not a JSON object")
            return fallback
        }
        if requireObjectType {
            guard case .string("object")? = object["type"] else {
                problems.append("\(what) must have \"type\": \"object\"")
                return fallback
            }
        }
        return JSONText.minified(literal.json)
    }

    static func isValidToolName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 100
            && name.utf8.allSatisfy { isLowerAlnum($0) || ($0 >= 0x41 && $0 <= 0x5A) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

private func isLowerAlnum(_ byte: UInt8) -> Bool {
    (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
}
