/// The files of a table's `_delta_log/` directory, classified by name (Delta protocol, "Delta Log
/// Entries" and "Checkpoints"): `<v>.json` commits, `<v>.checkpoint.parquet` single-part and
/// `<v>.checkpoint.<i>.<n>.parquet` multi-part checkpoints, `<v>.checkpoint.<uuid>.{json,parquet}`
/// V2 checkpoints. Anything else (`_last_checkpoint`, `.crc`, sidecars, compacted logs) is ignored.
public struct DeltaLogListing: Sendable {
    public struct Checkpoint: Sendable, Equatable {
        public var version: Int64
        /// Keys of the parts in part order (one for a single-part checkpoint).
        public var parts: [String]
        public var size: Int
    }

    /// Key prefix of the log directory, e.g. `tables/sales/_delta_log/`.
    public let logPrefix: String
    /// Commit files by version.
    public let commits: [Int64: ObjectInfo]
    /// Complete checkpoints (every part present), oldest first.
    public let checkpoints: [Checkpoint]
    /// Versions of V2 (UUID-named) checkpoints, which this reader does not replay from.
    public let v2CheckpointVersions: [Int64]

    public init(logPrefix: String, objects: [ObjectInfo]) {
        self.logPrefix = logPrefix
        var commits: [Int64: ObjectInfo] = [:]
        var single: [Int64: ObjectInfo] = [:]
        // version → part count → part index → key
        var multi: [Int64: [Int: [Int: ObjectInfo]]] = [:]
        var v2: Set<Int64> = []
        for object in objects {
            guard object.key.hasPrefix(logPrefix) else { continue }
            let name = object.key.dropFirst(logPrefix.count)
            // Only direct children: `_delta_log/_sidecars/…`, `_delta_log/_staged_commits/…` are not log entries.
            guard !name.contains("/") else { continue }
            let pieces = name.split(separator: ".", omittingEmptySubsequences: false)
            guard pieces.count >= 2, pieces[0].count == 20, let version = Int64(pieces[0]) else { continue }
            if pieces.count == 2 && pieces[1] == "json" {
                commits[version] = object
            } else if pieces.count == 3 && pieces[1] == "checkpoint" && pieces[2] == "parquet" {
                single[version] = object
            } else if pieces.count == 5 && pieces[1] == "checkpoint" && pieces[4] == "parquet",
                let index = Int(pieces[2]), let count = Int(pieces[3]), index >= 1, index <= count
            {
                multi[version, default: [:]][count, default: [:]][index] = object
            } else if pieces.count == 4 && pieces[1] == "checkpoint" && (pieces[3] == "json" || pieces[3] == "parquet") {
                v2.insert(version)
            }
        }
        var checkpoints: [Checkpoint] = single.map { Checkpoint(version: $0.key, parts: [$0.value.key], size: $0.value.size) }
        for (version, byCount) in multi where single[version] == nil {
            // A multi-part checkpoint counts only when all of its parts were written.
            if let (count, parts) = byCount.first(where: { $0.value.count == $0.key }) {
                let ordered = (1...count).map { parts[$0]! }
                checkpoints.append(Checkpoint(version: version, parts: ordered.map(\.key), size: ordered.reduce(0) { $0 + $1.size }))
            }
        }
        self.commits = commits
        self.checkpoints = checkpoints.sorted { $0.version < $1.version }
        v2CheckpointVersions = v2.sorted()
    }

    /// The newest version the log describes.
    public var latestVersion: Int64? {
        [commits.keys.max(), checkpoints.last?.version].compactMap { $0 }.max()
    }

    /// The oldest version that can be reconstructed: from commit 0, or from the oldest checkpoint
    /// followed by an unbroken run of commits.
    public var earliestReconstructableVersion: Int64? {
        guard let latest = latestVersion else { return nil }
        var candidates: [Int64] = checkpoints.map(\.version)
        if commits[0] != nil { candidates.append(0) }
        for start in candidates.sorted() where ((start + 1)...max(start + 1, latest)).allSatisfy({ $0 > latest || commits[$0] != nil }) {
            return start
        }
        return nil
    }

    /// How to reach `version`: the newest complete checkpoint at or below it and the commits after
    /// it, which must be contiguous.
    public func plan(for version: Int64) throws -> (checkpoint: Checkpoint?, commits: [ObjectInfo]) {
        let start = checkpoints.last { $0.version <= version }
        let from = (start?.version ?? -1) + 1
        var files: [ObjectInfo] = []
        if from <= version {
            for v in from...version {
                guard let commit = commits[v] else {
                    throw DeltaError(
                        "version \(version) cannot be reconstructed: commit \(v) is missing from _delta_log"
                            + (start == nil ? " and no checkpoint precedes it" : " after the checkpoint at version \(start!.version)")
                            + availableRange)
                }
                files.append(commit)
            }
        }
        return (start, files)
    }

    /// ", available versions: a…b" for error messages.
    public var availableRange: String {
        guard let latest = latestVersion else { return "" }
        if let earliest = earliestReconstructableVersion { return "; available versions: \(earliest)…\(latest)" }
        return "; latest version: \(latest)"
    }

    public static func commitKey(_ logPrefix: String, _ version: Int64) -> String {
        let digits = String(version)
        return logPrefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".json"
    }
}

public struct DeltaError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
