import CMCPPlugin
import MCPJSON

/// A plugin library mapped into the process (by content hash) whose descriptor passed every check.
/// Immutable. Never unloaded: the image stays mapped for the life of the process.
public final class PluginImage: @unchecked Sendable {
    // @unchecked: the descriptor points at the plugin's static, immutable memory.
    let descriptor: UnsafePointer<mcp_plugin_descriptor>
    public let name: String
    public let version: String
    public let sdkID: String
    /// Hex SHA-256 of the library file.
    public let sha256: String
    /// Where the file was found (the plugin directory), and the content-addressed copy loaded.
    public let sourcePath: String
    public let loadedPath: String
    public let manifest: PluginManifest

    init(
        descriptor: UnsafePointer<mcp_plugin_descriptor>, name: String, version: String, sdkID: String, sha256: String,
        sourcePath: String, loadedPath: String, manifest: PluginManifest
    ) {
        self.descriptor = descriptor
        self.name = name
        self.version = version
        self.sdkID = sdkID
        self.sha256 = sha256
        self.sourcePath = sourcePath
        self.loadedPath = loadedPath
        self.manifest = manifest
    }

    /// The manifest's tools, keyed by plugin-local name.
    public func tool(named name: String) -> ToolDefinition? {
        manifest.tools.first { $0.name == name }
    }

    /// Releases a plugin-owned buffer.
    func free(_ buffer: UnsafeMutableRawPointer?) {
        guard let buffer else { return }
        descriptor.pointee.free_buf(buffer)
    }

    /// Copies a plugin-owned buffer into a String and frees it.
    func takeString(_ pointer: UnsafeMutablePointer<UInt8>?, _ length: Int) -> String {
        guard let pointer else { return "" }
        let string = String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
        descriptor.pointee.free_buf(pointer)
        return string
    }
}
