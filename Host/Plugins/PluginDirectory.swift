import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// The plugins found in one directory: which images are current, and why any file was refused.
/// `rescan()` notices replaced, added and removed files; a replaced file is loaded as a new image
/// beside the old one (sessions that hold the old image keep using it).
public final class PluginDirectory: Sendable {
    public struct Status: Sendable {
        public var file: String
        public var name: String?
        public var version: String?
        public var sha256: String?
        /// "loaded" or "failed".
        public var state: String
        public var error: String?
    }

    /// The current set of images and a generation number that changes whenever it does.
    public struct Snapshot: Sendable {
        public var generation: Int
        public var images: [PluginImage]
        public var statuses: [Status]
    }

    public let path: String
    /// Only files whose name matches this prefix and ends in `.so` are considered.
    public let filePrefix: String
    private let loader: PluginLoader
    private let logger: Logger
    private struct FileStamp: Equatable {
        var size: Int
        var modified: Int
        var inode: UInt
    }
    private struct State {
        var generation = 0
        var stamps: [String: FileStamp] = [:]
        var byFile: [String: PluginImage] = [:]
        var byHash: [String: PluginImage] = [:]
        var statuses: [String: Status] = [:]
        var directoryError: String?
    }
    private let state = NIOLockedValueBox(State())
    private let scanLock = NIOLock()

    public init(path: String, filePrefix: String = "", loader: PluginLoader, logger: Logger) {
        self.path = path
        self.filePrefix = filePrefix
        self.loader = loader
        self.logger = logger
    }

    /// Changes whenever the set of images does; cheap enough to read on every request.
    public var generation: Int { state.withLockedValue { $0.generation } }

    public var snapshot: Snapshot {
        state.withLockedValue { state in
            var statuses = state.statuses.values.sorted { $0.file < $1.file }
            if let error = state.directoryError {
                statuses.insert(Status(file: path, state: "failed", error: error), at: 0)
            }
            let images = state.byFile.keys.sorted().compactMap { state.byFile[$0] }
            return Snapshot(generation: state.generation, images: images, statuses: statuses)
        }
    }

    /// Loads new and changed files and forgets removed ones. Returns whether the set changed.
    @discardableResult
    public func rescan() -> Bool {
        scanLock.withLock { rescanLocked() }
    }

    private func rescanLocked() -> Bool {
        do {
            try PluginLoader.checkDirectory(path)
        } catch {
            let changed = state.withLockedValue { state -> Bool in
                let changed = state.directoryError != error.description || !state.byFile.isEmpty
                state.directoryError = error.description
                state.byFile = [:]
                state.stamps = [:]
                if changed { state.generation += 1 }
                return changed
            }
            if changed { logger.error("plugin directory refused", metadata: ["error": "\(error.description)"]) }
            return changed
        }
        let files = listFiles()
        var changed = false
        let previous = state.withLockedValue { state -> [String: FileStamp] in
            if state.directoryError != nil {
                state.directoryError = nil
                changed = true
            }
            return state.stamps
        }
        for file in files {
            let fullPath = path + "/" + file
            guard let stamp = stampOf(fullPath) else { continue }
            if previous[file] == stamp { continue }
            changed = true
            do throws(PluginLoadError) {
                let image = try loader.load(path: fullPath) { hash in
                    self.state.withLockedValue { $0.byHash[hash] }
                }
                let duplicate = state.withLockedValue { state in
                    state.byFile.first { $0.key != file && $0.value.name == image.name }?.key
                }
                if let duplicate {
                    throw PluginLoadError(fullPath, "plugin name \"\(image.name)\" is already provided by \(duplicate)")
                }
                state.withLockedValue { state in
                    state.byFile[file] = image
                    state.byHash[image.sha256] = image
                    state.stamps[file] = stamp
                    state.statuses[file] = Status(
                        file: fullPath, name: image.name, version: image.version, sha256: image.sha256, state: "loaded")
                }
                logger.info(
                    "plugin loaded",
                    metadata: [
                        "plugin": "\(image.name)", "version": "\(image.version)", "file": "\(fullPath)",
                        "sha256": "\(image.sha256)", "tools": "\(image.manifest.tools.count)",
                    ])
            } catch {
                state.withLockedValue { state in
                    state.byFile[file] = nil
                    state.stamps[file] = stamp
                    state.statuses[file] = Status(file: fullPath, state: "failed", error: error.reason)
                }
                logger.error("plugin refused", metadata: ["file": "\(fullPath)", "error": "\(error.reason)"])
            }
        }
        let present = Set(files)
        state.withLockedValue { state in
            for file in state.stamps.keys where !present.contains(file) {
                state.stamps[file] = nil
                state.byFile[file] = nil
                state.statuses[file] = nil
                changed = true
            }
            if changed { state.generation += 1 }
        }
        return changed
    }

    private func listFiles() -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasSuffix(".so") && name.hasPrefix(filePrefix) { names.append(name) }
        }
        return names.sorted()
    }

    private func stampOf(_ path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return FileStamp(
            size: Int(info.st_size), modified: Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec),
            inode: UInt(info.st_ino))
    }
}
