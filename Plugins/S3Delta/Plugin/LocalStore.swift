import S3DeltaFormats

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An `ObjectStore` over a directory. Every key is resolved with `realpath` and must stay under
/// the root's own real path: `..`, absolute paths and symlinks that lead outside are refused
/// (`denied`), whatever the key looks like. Files are read with `pread` in bounded ranges.
///
/// The root is resolved on every call, not once at configuration time, so a root that appears
/// (a mounted volume) or moves later is seen as it is now.
struct LocalStore: ListingStore {
    let root: String

    /// Refuses escapes; returns the real path of `key` (which exists).
    func resolve(_ key: String) throws -> String {
        let rootReal = try realRoot()
        guard !key.hasPrefix("/") else { throw ObjectStoreError.denied("access denied: '\(key)' is an absolute path") }
        if key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." }) {
            throw ObjectStoreError.denied("access denied: '\(key)' leaves the source's root")
        }
        let candidate = rootReal + "/" + key
        guard let real = Self.resolvedPath(candidate) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw ObjectStoreError.notFound("not found: '\(key)'") }
            throw ObjectStoreError.failed("cannot resolve '\(key)': \(Self.errorText(code))")
        }
        guard real == rootReal || real.hasPrefix(rootReal == "/" ? "/" : rootReal + "/") else {
            throw ObjectStoreError.denied("access denied: '\(key)' resolves (through a symbolic link) outside the source's root")
        }
        return real
    }

    private func realRoot() throws -> String {
        guard let real = Self.resolvedPath(root) else {
            throw ObjectStoreError.failed("the source's root directory is not available: \(Self.errorText(errno))")
        }
        return real
    }

    func head(_ key: String) async throws -> ObjectInfo {
        let path = try resolve(key)
        var info = stat()
        guard stat(path, &info) == 0 else { throw ObjectStoreError.failed("cannot stat '\(key)': \(Self.errorText(errno))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ObjectStoreError.notFound("not a file: '\(key)'") }
        return ObjectInfo(key: key, size: Int(info.st_size), lastModifiedMilliseconds: Self.milliseconds(info))
    }

    func read(_ key: String, range: Range<Int>) async throws -> [UInt8] {
        let path = try resolve(key)
        // O_NOFOLLOW: the resolved path has no symlinks left; if one was swapped in since, refuse.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw ObjectStoreError.notFound("not found: '\(key)'") }
            throw ObjectStoreError.failed("cannot open '\(key)': \(Self.errorText(code))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ObjectStoreError.notFound("not a file: '\(key)'")
        }
        let size = Int(info.st_size)
        let lower = min(max(0, range.lowerBound), size)
        let upper = min(max(lower, range.upperBound), size)
        guard upper > lower else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: upper - lower) { buffer, count in
            var done = 0
            while done < buffer.count {
                let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(lower + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    count = done
                    throw ObjectStoreError.failed("cannot read '\(key)': \(Self.errorText(errno))")
                }
                if n == 0 { break }  // the file shrank meanwhile: return what is there
                done += n
            }
            count = done
        }
    }

    func read(_ key: String) async throws -> [UInt8] {
        try await read(key, range: 0..<Int.max)
    }

    func list(prefix: String) async throws -> [ObjectInfo] {
        try await listPage(prefix: prefix, after: nil, limit: Int.max).objects
    }

    func listPage(prefix: String, after: String?, limit: Int) async throws -> (objects: [ObjectInfo], more: Bool) {
        let rootReal = try realRoot()
        // Walk only the directory the prefix names ("a/b/c" → under "a/b"), then filter by prefix.
        var directory = ""
        if let slash = prefix.lastIndex(of: "/") { directory = String(prefix[..<slash]) }
        if !directory.isEmpty {
            let real: String
            do { real = try resolve(directory) } catch ObjectStoreError.notFound { return ([], false) }
            var info = stat()
            guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return ([], false) }
        }
        var found: [ObjectInfo] = []
        try walk(rootReal: rootReal, relative: directory, into: &found)
        found = found.filter { object in
            object.key.hasPrefix(prefix) && (after.map { Self.sortsBefore($0, object.key) } ?? true)
        }
        // S3 orders keys by their UTF-8 bytes; so does this.
        found.sort { Self.sortsBefore($0.key, $1.key) }
        if found.count > limit { return (Array(found.prefix(limit)), true) }
        return (found, false)
    }

    static func sortsBefore(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Regular files under `relative` (recursively). Symlinked files count when they point
    /// inside the root; symlinked directories are not entered (no loops, no escapes).
    private func walk(rootReal: String, relative: String, into found: inout [ObjectInfo]) throws {
        let directoryPath = relative.isEmpty ? rootReal : rootReal + "/" + relative
        guard let dir = opendir(directoryPath) else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return }
            throw ObjectStoreError.failed("cannot list '\(relative.isEmpty ? "." : relative)': \(Self.errorText(code))")
        }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let key = relative.isEmpty ? name : relative + "/" + name
            let full = rootReal + "/" + key
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(rootReal: rootReal, relative: key, into: &found)
            case S_IFREG:
                found.append(ObjectInfo(key: key, size: Int(info.st_size), lastModifiedMilliseconds: Self.milliseconds(info)))
            case S_IFLNK:
                guard let real = Self.resolvedPath(full), real.hasPrefix(rootReal + "/") else { continue }
                var target = stat()
                guard stat(real, &target) == 0, (target.st_mode & S_IFMT) == S_IFREG else { continue }
                found.append(ObjectInfo(key: key, size: Int(target.st_size), lastModifiedMilliseconds: Self.milliseconds(target)))
            default:
                continue
            }
        }
    }

    static func resolvedPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func milliseconds(_ info: stat) -> Int64 {
        Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
