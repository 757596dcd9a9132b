/// Commit history from the `commitInfo` action of each JSON commit still in the log (older
/// commits may have been cleaned up after a checkpoint; only what is there is reported).
public struct DeltaCommit: Sendable {
    public var version: Int64
    /// Milliseconds since the epoch.
    public var timestamp: Int64?
    /// Where `timestamp` came from: "inCommitTimestamp", "commitInfo" or "file" (the object's modification time).
    public var timestampSource: String?
    public var operation: String?
    public var operationParameters: [String: FormatValue]
    public var operationMetrics: [String: FormatValue]?
    public var engineInfo: String?
    public var isBlindAppend: Bool?
}

public struct DeltaHistory: Sendable {
    /// Newest first.
    public var commits: [DeltaCommit]
    public var latestVersion: Int64
    /// The oldest commit file still present.
    public var earliestAvailableVersion: Int64?
    /// Whether commits older than the ones returned exist in the log.
    public var truncated: Bool
}

extension DeltaLog {
    /// The newest `limit` commits at or below `version` (default: the latest).
    public func history(limit: Int, upTo version: Int64? = nil) async throws -> DeltaHistory {
        let listing = try await listing()
        let latest = listing.latestVersion!
        if let version, version < 0 || version > latest {
            throw DeltaError("version \(version) does not exist" + listing.availableRange)
        }
        let top = version ?? latest
        let versions = listing.commits.keys.filter { $0 <= top }.sorted(by: >)
        let selected = Array(versions.prefix(max(0, limit)))
        // Bounded parallelism: one commit per request, a few in flight.
        var commits: [DeltaCommit] = []
        commits.reserveCapacity(selected.count)
        var index = 0
        while index < selected.count {
            try Task.checkCancellation()
            let batch = Array(selected[index..<min(index + Self.commitReadWindow, selected.count)])
            index += batch.count
            let store = self.store
            let results = try await withThrowingTaskGroup(of: DeltaCommit.self) { group in
                for v in batch {
                    let info = listing.commits[v]!
                    group.addTask { try await Self.readCommit(store: store, info: info, version: v) }
                }
                var out: [DeltaCommit] = []
                for try await c in group { out.append(c) }
                return out
            }
            commits += results.sorted { $0.version > $1.version }
        }
        return DeltaHistory(
            commits: commits, latestVersion: latest, earliestAvailableVersion: listing.commits.keys.min(),
            truncated: versions.count > selected.count)
    }

    static func readCommit(store: any ObjectStore, info: ObjectInfo, version: Int64) async throws -> DeltaCommit {
        let commitInfoName = Array(#""commitInfo""#.utf8)
        let bytes = try await store.read(info.key)
        var commit = DeltaCommit(
            version: version, timestamp: info.lastModifiedMilliseconds,
            timestampSource: info.lastModifiedMilliseconds == nil ? nil : "file", operation: nil, operationParameters: [:])
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            // commitInfo is usually the first line; lines without the name (adds with statistics,
            // possibly large) are skipped without parsing.
            guard line.firstRange(of: commitInfoName) != nil,
                let action = try? FormatValue.parse(line), let info = action["commitInfo"]
            else { continue }
            if let t = info["inCommitTimestamp"]?.intValue {
                commit.timestamp = t
                commit.timestampSource = "inCommitTimestamp"
            } else if let t = info["timestamp"]?.intValue {
                commit.timestamp = t
                commit.timestampSource = "commitInfo"
            }
            commit.operation = info["operation"]?.stringValue
            commit.operationParameters = info["operationParameters"]?.objectValue ?? [:]
            commit.operationMetrics = info["operationMetrics"]?.objectValue
            commit.engineInfo = info["engineInfo"]?.stringValue ?? info["clientVersion"]?.stringValue
            commit.isBlindAppend = info["isBlindAppend"]?.boolValue
            break
        }
        return commit
    }
}
