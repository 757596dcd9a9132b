/// Read access to a tree of objects — a local root directory or an S3 bucket + prefix. The format
/// readers (CSV, Parquet, Delta log) need this and nothing more, so they run unchanged on both.
/// Keys are relative to the store's root and use "/" as separator.
public protocol ObjectStore: Sendable {
    /// Objects whose key starts with `prefix`, at any depth, sorted by key.
    func list(prefix: String) async throws -> [ObjectInfo]
    /// Size and metadata of one object. Throws `ObjectStoreError.notFound` when it does not exist.
    func head(_ key: String) async throws -> ObjectInfo
    /// Bytes `range` of the object (clamped to its size: a range past the end returns fewer bytes).
    func read(_ key: String, range: Range<Int>) async throws -> [UInt8]
    /// The whole object.
    func read(_ key: String) async throws -> [UInt8]
}

/// One object of a store.
public struct ObjectInfo: Sendable, Hashable {
    public var key: String
    public var size: Int
    /// Milliseconds since the Unix epoch, when the store reports it.
    public var lastModifiedMilliseconds: Int64?
    public var etag: String?

    public init(key: String, size: Int, lastModifiedMilliseconds: Int64? = nil, etag: String? = nil) {
        self.key = key
        self.size = size
        self.lastModifiedMilliseconds = lastModifiedMilliseconds
        self.etag = etag
    }
}

/// Failures a store reports; messages never contain credentials.
public enum ObjectStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The object (or bucket) does not exist.
    case notFound(String)
    /// The store refused: a path escaping its root, S3 403 (signature rejected, access denied).
    case denied(String)
    /// Anything else: network, unexpected status, malformed listing.
    case failed(String)

    public var description: String {
        switch self {
        case .notFound(let m), .denied(let m), .failed(let m): m
        }
    }
}
