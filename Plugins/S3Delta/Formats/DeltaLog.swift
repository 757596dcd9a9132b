/// Log replay: the state of a Delta table at a version, rebuilt from the newest checkpoint at or
/// below it plus the JSON commits after it (Delta protocol, "Action Reconciliation").
public struct DeltaLog: Sendable {
    let store: any ObjectStore
    /// Key prefix of the table root: "" or ending in "/".
    public let root: String

    public init(store: any ObjectStore, tablePath: String) {
        self.store = store
        var root = tablePath
        while root.hasSuffix("/") { root.removeLast() }
        self.root = root.isEmpty ? "" : root + "/"
    }

    public var logPrefix: String { root + "_delta_log/" }

    /// Commit files read concurrently during replay and history.
    static let commitReadWindow = 8

    public func listing() async throws -> DeltaLogListing {
        let objects = try await store.list(prefix: logPrefix)
        let listing = DeltaLogListing(logPrefix: logPrefix, objects: objects)
        guard listing.latestVersion != nil else {
            throw DeltaError("'\(root.isEmpty ? "/" : String(root.dropLast()))' is not a Delta table: \(logPrefix) holds no commits or checkpoints")
        }
        return listing
    }

    /// Reader features whose tables this plugin still describes exactly, and why:
    /// - columnMapping: statistics and partition values are keyed by physical names; mapped back.
    /// - deletionVectors: row counts subtract each vector's cardinality (no data is read).
    /// - timestampNtz, typeWidening, variantType: only change column types, which are reported as written.
    /// - vacuumProtocolCheck: affects VACUUM only.
    public static let supportedReaderFeatures: Set<String> = [
        "columnMapping", "deletionVectors", "timestampNtz", "typeWidening", "typeWidening-preview",
        "vacuumProtocolCheck", "variantType", "variantType-preview",
    ]

    public func snapshot(version requested: Int64? = nil) async throws -> DeltaSnapshot {
        let listing = try await listing()
        let latest = listing.latestVersion!
        let target = requested ?? latest
        if let requested {
            guard requested >= 0, requested <= latest else {
                throw DeltaError("version \(requested) does not exist" + listing.availableRange)
            }
        }
        // The listing (needed anyway to find the commits after the checkpoint) shows every
        // checkpoint, complete or not; `_last_checkpoint` is only a hint that may lag behind it,
        // so it is not read. It would pay off with a start-after listing, which ObjectStore lacks.
        let plan: (checkpoint: DeltaLogListing.Checkpoint?, commits: [ObjectInfo])
        do {
            plan = try listing.plan(for: target)
        } catch let error as DeltaError where listing.v2CheckpointVersions.contains(where: { $0 <= target }) {
            throw DeltaError("\(error.description) (the table has V2 checkpoints, reader feature v2Checkpoint, which this plugin does not read)")
        }
        var state = ReplayState()
        if let checkpoint = plan.checkpoint {
            for part in checkpoint.parts {
                try await state.applyCheckpoint(store: store, key: part)
            }
        }
        // Commits are fetched a window at a time in parallel (latency dominates on S3) and applied
        // in version order.
        var next = 0
        while next < plan.commits.count {
            try Task.checkCancellation()
            let window = Array(plan.commits[next..<min(next + Self.commitReadWindow, plan.commits.count)])
            next += window.count
            let store = self.store
            let contents = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                for (i, commit) in window.enumerated() {
                    group.addTask { (i, try await store.read(commit.key)) }
                }
                var out = [[UInt8]](repeating: [], count: window.count)
                for try await (i, bytes) in group { out[i] = bytes }
                return out
            }
            for (commit, bytes) in zip(window, contents) {
                try state.applyCommit(bytes, key: commit.key, lastModified: commit.lastModifiedMilliseconds)
            }
        }
        guard let proto = state.protocolAction else { throw DeltaError("no protocol action found up to version \(target)") }
        guard let metadata = state.metadata else { throw DeltaError("no metaData action found up to version \(target)") }
        try Self.checkReadable(proto)
        let schema = try DeltaSchema(schemaString: metadata.schemaString)
        return DeltaSnapshot(
            version: target, latestVersion: latest, protocolAction: proto, metadata: metadata, schema: schema,
            files: Array(state.files.values).sorted { $0.path < $1.path },
            checkpointVersion: plan.checkpoint?.version, commitsReplayed: plan.commits.count,
            // Without commits to replay, the commit file's (or the checkpoint's) write time stands in.
            timestamp: state.lastCommitTimestamp ?? listing.commits[target]?.lastModifiedMilliseconds)
    }

    static func checkReadable(_ p: DeltaProtocol) throws {
        guard p.minReaderVersion <= 3 else {
            throw DeltaError("the table requires reader version \(p.minReaderVersion); this plugin reads versions 1 to 3")
        }
        if p.minReaderVersion == 3 {
            let unsupported = (p.readerFeatures ?? []).filter { !supportedReaderFeatures.contains($0) }
            if !unsupported.isEmpty {
                throw DeltaError(
                    "the table uses reader feature\(unsupported.count > 1 ? "s" : "") \(unsupported.joined(separator: ", ")), which this plugin does not support"
                        + (unsupported.contains("v2Checkpoint") ? " (V2 checkpoints keep file actions in sidecar files)" : ""))
            }
        }
    }
}

/// Accumulates actions in log order.
struct ReplayState {
    /// Active files keyed by decoded path + deletion vector id.
    var files: [String: DeltaAddFile] = [:]
    var metadata: DeltaMetadata?
    var protocolAction: DeltaProtocol?
    var lastCommitTimestamp: Int64?

    static func fileKey(_ path: String, _ dv: DeltaDeletionVector?) -> String {
        percentDecoded(path) + "\u{0}" + (dv?.uniqueID ?? "")
    }

    /// Columns the checkpoint reader assembles; statistics structs and tags are skipped.
    static func checkpointColumn(_ path: [String]) -> Bool {
        guard let top = path.first, ["add", "metaData", "protocol"].contains(top) else { return false }
        if path.count > 1, ["stats_parsed", "partitionValues_parsed", "tags", "clusteringProvider"].contains(path[1]) {
            return false
        }
        return true
    }

    mutating func applyCheckpoint(store: any ObjectStore, key: String) async throws {
        let file: ParquetFile
        do {
            file = try await ParquetFile.open(store, key: key)
        } catch let error as ParquetError {
            throw DeltaError("checkpoint \(key): \(error)")
        }
        let plain = ParquetRecordReader(file, select: Self.checkpointColumn)
        // Checkpoints written with writeStatsAsJson=false carry statistics only as the typed
        // `add.stats_parsed` struct: read it for row groups whose JSON `add.stats` is absent or all null.
        let statsLeaf = file.schema.leaves.first { $0.path == ["add", "stats"] }
        let hasParsed = file.schema.leaves.contains { $0.path.starts(with: ["add", "stats_parsed"]) }
        let withParsed = hasParsed
            ? ParquetRecordReader(file) { Self.checkpointColumn($0) || $0.starts(with: ["add", "stats_parsed"]) } : nil
        for group in file.metadata.rowGroups.indices {
            try Task.checkCancellation()
            var reader = plain
            if let withParsed {
                let chunk = statsLeaf.map { file.metadata.rowGroups[group].columns[$0.leafIndex!] }
                if chunk == nil || chunk!.statistics?.nullCount == chunk!.numValues { reader = withParsed }
            }
            let rows: [FormatValue]
            do { rows = try await reader.rows(rowGroup: group) } catch let error as ParquetError {
                throw DeltaError("checkpoint \(key): \(error)")
            }
            for row in rows {
                // A checkpoint holds the reconciled state: its removes are tombstones, not cancellations.
                if let add = row["add"], !add.isNull {
                    let file = try DeltaAddFile(add)
                    files[Self.fileKey(file.path, file.deletionVector)] = file
                }
                if let m = row["metaData"], !m.isNull { metadata = try DeltaMetadata(m) }
                if let p = row["protocol"], !p.isNull { protocolAction = try DeltaProtocol(p) }
            }
        }
    }

    mutating func applyCommit(_ bytes: [UInt8], key: String, lastModified: Int64?) throws {
        var commitTimestamp: Int64?
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 32 || $0 == 13 || $0 == 9 }) { continue }
            let action: FormatValue
            do { action = try FormatValue.parse(line) } catch {
                throw DeltaError("\(key) line \(lineNumber) is not valid JSON")
            }
            if let add = action["add"] {
                let file = try DeltaAddFile(add)
                files[Self.fileKey(file.path, file.deletionVector)] = file
            } else if let remove = action["remove"] {
                guard let path = remove["path"]?.stringValue else { throw DeltaError("\(key) line \(lineNumber): remove without path") }
                files.removeValue(forKey: Self.fileKey(path, DeltaDeletionVector(remove["deletionVector"])))
            } else if let m = action["metaData"] {
                metadata = try DeltaMetadata(m)
            } else if let p = action["protocol"] {
                protocolAction = try DeltaProtocol(p)
            } else if let info = action["commitInfo"] {
                commitTimestamp = info["inCommitTimestamp"]?.intValue ?? info["timestamp"]?.intValue
            }
        }
        lastCommitTimestamp = commitTimestamp ?? lastModified
    }
}
