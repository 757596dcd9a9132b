import CMCPPlugin
import Crypto
import MCPJSON

#if canImport(Glibc)
import Glibc
#endif

/// Why a plugin file was refused. The message names the file and, for version mismatches, both
/// versions; the host logs it, shows it on /health and keeps serving the other plugins.
public struct PluginLoadError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "plugin \(path): \(reason)" }
    init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// Loads plugin libraries following the rules DESIGN.md records (each was seen to fail when broken):
/// - the library is copied to a content-addressed file (its SHA-256) before `dlopen`, because
///   overwriting a loaded .so crashes the process and `dlopen` of the same path returns the old
///   image; a changed file is therefore a new image, loaded beside the old one;
/// - `dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)`, never `dlclose` (unmapping a Swift image
///   breaks later dynamic casts);
/// - the descriptor is checked field by field before anything else in it is used.
public final class PluginLoader: Sendable {
    public let cacheDirectory: String
    /// When non-empty, only files whose SHA-256 is listed may load.
    public let allowedSHA256: Set<String>
    private let services: HostServices

    public init(cacheDirectory: String, allowedSHA256: Set<String> = [], services: HostServices) {
        self.cacheDirectory = cacheDirectory
        self.allowedSHA256 = Set(allowedSHA256.map { $0.lowercased() })
        self.services = services
    }

    /// Refuses a directory anyone but its owner (root or this user) can write to: whoever can
    /// write there can run code inside the host.
    public static func checkDirectory(_ path: String) throws(PluginLoadError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw PluginLoadError(path, "cannot read the plugin directory: \(errnoText())") }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw PluginLoadError(path, "is not a directory") }
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw PluginLoadError(
                path,
                "the plugin directory is writable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "refusing to load code from it — chmod go-w it")
        }
        if info.st_uid != 0 && info.st_uid != geteuid() {
            throw PluginLoadError(path, "the plugin directory is owned by uid \(info.st_uid), neither root nor this user")
        }
    }

    /// Reads `path`, checks it and maps it. Content already loaded (same SHA-256) returns `existing`.
    public func load(path: String, existing: (String) -> PluginImage? = { _ in nil }) throws(PluginLoadError) -> PluginImage {
        let bytes = try readFile(path)
        guard bytes.count >= 4, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46 else {
            throw PluginLoadError(path, "not an ELF shared object")
        }
        let digest = SHA256.hash(data: bytes).map { String(format2: $0) }.joined()
        if !allowedSHA256.isEmpty && !allowedSHA256.contains(digest) {
            throw PluginLoadError(path, "SHA-256 \(digest) is not in plugins.allow_sha256")
        }
        if let image = existing(digest) { return image }
        let loadedPath = try contentAddressedCopy(bytes, digest: digest, source: path)

        dlerror()
        guard let handle = dlopen(loadedPath, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw PluginLoadError(path, "dlopen failed: \(dlErrorText())")
        }
        // Never dlclose(handle): see the type's comment.
        guard let symbol = dlsym(handle, MCP_PLUGIN_ENTRY_SYMBOL) else {
            throw PluginLoadError(path, "missing entry symbol \(MCP_PLUGIN_ENTRY_SYMBOL) — not an MCPHost plugin")
        }
        let entry = unsafeBitCast(symbol, to: mcp_plugin_entry_fn.self)
        guard let descriptor = entry() else { throw PluginLoadError(path, "the entry symbol returned no descriptor") }
        return try check(descriptor, path: path, loadedPath: loadedPath, digest: digest)
    }

    private func check(
        _ descriptor: UnsafePointer<mcp_plugin_descriptor>, path: String, loadedPath: String, digest: String
    ) throws(PluginLoadError) -> PluginImage {
        // Only the first two fields may be read before these checks pass.
        let abi = descriptor.pointee.abi_version
        guard abi == MCP_PLUGIN_ABI_VERSION else {
            throw PluginLoadError(
                path, "plugin ABI version mismatch: the plugin was built for ABI v\(abi), this host speaks v\(MCP_PLUGIN_ABI_VERSION)")
        }
        let needed = MemoryLayout<mcp_plugin_descriptor>.size
        guard Int(descriptor.pointee.struct_size) >= needed else {
            throw PluginLoadError(
                path, "descriptor is \(descriptor.pointee.struct_size) bytes; ABI v\(abi) needs at least \(needed)")
        }
        let d = descriptor.pointee
        guard let namePointer = d.name, let versionPointer = d.version, let sdkPointer = d.sdk_id,
            let manifestPointer = d.manifest_json
        else { throw PluginLoadError(path, "descriptor lacks name, version, sdk_id or manifest_json") }
        guard d.`init` != nil, d.create_instance != nil, d.destroy_instance != nil, d.call != nil, d.cancel != nil,
            d.free_buf != nil
        else { throw PluginLoadError(path, "descriptor lacks one of its functions") }
        let name = String(cString: namePointer)
        let version = String(cString: versionPointer)
        let sdkID = String(cString: sdkPointer)
        guard !name.isEmpty, name.utf8.count <= 64,
            name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D })
        else { throw PluginLoadError(path, "plugin name \"\(name)\" must match [a-z0-9_-]{1,64}") }
        if sdkID.hasPrefix("swift-") {
            let pluginToolchain = sdkID.split(separator: " ").first.map(String.init) ?? sdkID
            guard pluginToolchain == Toolchain.swiftVersion else {
                throw PluginLoadError(
                    path,
                    "toolchain mismatch: plugin \(name) was built with \(pluginToolchain), this host with "
                        + "\(Toolchain.swiftVersion); Swift plugins must be built with the host's toolchain")
            }
        }
        let manifest: PluginManifest
        do {
            manifest = try PluginManifest(json: try JSONValue.parse(String(cString: manifestPointer)))
        } catch let error as PluginManifestError {
            throw PluginLoadError(path, "invalid manifest: \(error)")
        } catch {
            throw PluginLoadError(path, "manifest is not valid JSON: \(error)")
        }
        var errorPointer: UnsafeMutablePointer<UInt8>?
        var errorLength = 0
        let status = d.`init`(services.table, &errorPointer, &errorLength)
        if status != MCP_STATUS_OK {
            let message = errorPointer.map {
                let text = String(decoding: UnsafeBufferPointer(start: $0, count: errorLength), as: UTF8.self)
                d.free_buf($0)
                return text
            } ?? "status \(status)"
            throw PluginLoadError(path, "init failed: \(message)")
        }
        return PluginImage(
            descriptor: descriptor, name: name, version: version, sdkID: sdkID, sha256: digest, sourcePath: path,
            loadedPath: loadedPath, manifest: manifest)
    }

    private func readFile(_ path: String) throws(PluginLoadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PluginLoadError(path, "cannot open: \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw PluginLoadError(path, "cannot stat: \(errnoText())") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw PluginLoadError(path, "not a regular file") }
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw PluginLoadError(path, "the plugin file is writable by group or others; refusing to load it")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { throw PluginLoadError(path, "read failed: \(errnoText())") }
            if n == 0 { break }
            offset += n
        }
        return Array(bytes[0..<offset])
    }

    /// Writes `bytes` to `<cache>/<sha256>.so` (once; mode 0500) and returns that path.
    private func contentAddressedCopy(_ bytes: [UInt8], digest: String, source: String) throws(PluginLoadError) -> String {
        let target = "\(cacheDirectory)/\(digest).so"
        if access(target, R_OK) == 0 { return target }
        let temporary = "\(target).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PluginLoadError(source, "cannot write the plugin cache \(cacheDirectory): \(errnoText())") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 {
                close(fd)
                unlink(temporary)
                throw PluginLoadError(source, "cannot write the plugin cache: \(errnoText())")
            }
            offset += n
        }
        fchmod(fd, 0o500)
        close(fd)
        guard rename(temporary, target) == 0 else {
            unlink(temporary)
            throw PluginLoadError(source, "cannot move the plugin into the cache: \(errnoText())")
        }
        return target
    }

    /// Creates the cache directory (mode 0700) if needed.
    public static func prepareCacheDirectory(_ path: String) throws(PluginLoadError) {
        var current = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + component
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw PluginLoadError(path, "cannot create the plugin cache directory: \(errnoText())")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw PluginLoadError(path, "the plugin cache is not a directory")
        }
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 || (info.st_uid != 0 && info.st_uid != geteuid()) {
            throw PluginLoadError(path, "the plugin cache directory must be writable by its owner only")
        }
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
func dlErrorText() -> String { dlerror().map { String(cString: $0) } ?? "unknown error" }

extension String {
    /// Two lower-case hex digits.
    init(format2 byte: UInt8) {
        let digits: [Character] = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
