import XCTest

@testable import S3DeltaFormats

/// An in-memory `ObjectStore`: keys → bytes, modification times from insertion order.
final class MemoryStore: ObjectStore, @unchecked Sendable {
    // @unchecked: written only while a test sets it up, before any read.
    var objects: [String: [UInt8]] = [:]

    func put(_ key: String, _ text: String) { objects[key] = Array(text.utf8) }

    func list(prefix: String) async throws -> [ObjectInfo] {
        objects.keys.filter { $0.hasPrefix(prefix) }.sorted().map { ObjectInfo(key: $0, size: objects[$0]!.count, lastModifiedMilliseconds: 1_000) }
    }
    func head(_ key: String) async throws -> ObjectInfo {
        guard let o = objects[key] else { throw ObjectStoreError.notFound("no object '\(key)'") }
        return ObjectInfo(key: key, size: o.count)
    }
    func read(_ key: String, range: Range<Int>) async throws -> [UInt8] {
        guard let o = objects[key] else { throw ObjectStoreError.notFound("no object '\(key)'") }
        return Array(o[min(range.lowerBound, o.count)..<min(range.upperBound, o.count)])
    }
    func read(_ key: String) async throws -> [UInt8] {
        guard let o = objects[key] else { throw ObjectStoreError.notFound("no object '\(key)'") }
        return o
    }
}

final class DeltaReplayTests: XCTestCase {
    static let schema = #"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}"#

    func metaData(_ description: String, partitions: String = "[]") -> String {
        #"{"metaData":{"id":"t","description":"\#(description)","format":{"provider":"parquet","options":{}},"schemaString":"\#(Self.schema)","partitionColumns":\#(partitions),"configuration":{},"createdTime":1}}"#
    }
    func add(_ path: String, rows: Int, min: Int, max: Int, p: String = "a") -> String {
        let stats = #"{\"numRecords\":\#(rows),\"minValues\":{\"id\":\#(min)},\"maxValues\":{\"id\":\#(max)},\"nullCount\":{\"id\":0}}"#
        return #"{"add":{"path":"\#(path)","partitionValues":{"p":"\#(p)"},"size":100,"modificationTime":1,"dataChange":true,"stats":"\#(stats)"}}"#
    }
    func commit(_ store: MemoryStore, _ version: Int, _ lines: [String], table: String = "t") {
        let name = String(repeating: "0", count: 20 - String(version).count) + String(version)
        let info = #"{"commitInfo":{"timestamp":\#(1_700_000_000_000 + version),"operation":"OP\#(version)","operationParameters":{"v":"\#(version)"}}}"#
        store.put("\(table)/_delta_log/\(name).json", ([info] + lines).joined(separator: "\n") + "\n")
    }
    let protocolV1 = #"{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}"#

    func table() -> MemoryStore {
        let store = MemoryStore()
        commit(store, 0, [protocolV1, metaData("first", partitions: #"["p"]"#), add("a.parquet", rows: 10, min: 1, max: 10)])
        commit(store, 1, [add("b.parquet", rows: 5, min: -3, max: 4, p: "b")])
        commit(store, 2, [#"{"remove":{"path":"a.parquet","deletionTimestamp":5,"dataChange":true}}"#, add("c.parquet", rows: 7, min: 20, max: 30)])
        commit(store, 3, [metaData("second", partitions: #"["p"]"#)])
        return store
    }

    func testRemoveCancelsAddAndNewestMetadataWins() async throws {
        let snapshot = try await DeltaLog(store: table(), tablePath: "t").snapshot()
        XCTAssertEqual(snapshot.version, 3)
        XCTAssertEqual(snapshot.files.map(\.path), ["b.parquet", "c.parquet"])
        XCTAssertEqual(snapshot.metadata.description, "second")
        let summary = snapshot.summarize()
        XCTAssertEqual(summary.rowCount, 12)
        XCTAssertEqual(summary.totalSize, 200)
        let id = summary.columns.first { $0.name == "id" }!
        XCTAssertEqual(id.min, .int(-3))
        XCTAssertEqual(id.max, .int(30))
        let p = summary.columns.first { $0.name == "p" }!
        XCTAssertTrue(p.isPartition)
        XCTAssertEqual(p.min, .string("a"))
        XCTAssertEqual(p.max, .string("b"))
        XCTAssertEqual(snapshot.timestamp, 1_700_000_000_003)
    }

    func testTimeTravel() async throws {
        let log = DeltaLog(store: table(), tablePath: "t/")
        let v1 = try await log.snapshot(version: 1)
        XCTAssertEqual(v1.files.map(\.path), ["a.parquet", "b.parquet"])
        XCTAssertEqual(v1.metadata.description, "first")
        XCTAssertEqual(v1.summarize().rowCount, 15)
        do {
            _ = try await log.snapshot(version: 9)
            XCTFail("version 9 does not exist")
        } catch {
            XCTAssertTrue("\(error)".contains("version 9 does not exist") && "\(error)".contains("0…3"), "\(error)")
        }
    }

    func testMissingCommitIsNamed() async throws {
        let store = table()
        store.objects.removeValue(forKey: "t/_delta_log/00000000000000000001.json")
        do {
            _ = try await DeltaLog(store: store, tablePath: "t").snapshot()
            XCTFail("a gap must not be replayed over")
        } catch {
            XCTAssertTrue("\(error)".contains("commit 1 is missing"), "\(error)")
        }
    }

    func testUnsupportedReaderFeatureIsNamed() async throws {
        let store = table()
        commit(store, 4, [#"{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["timestampNtz","columnMapping","somethingNew"],"writerFeatures":[]}}"#])
        do {
            _ = try await DeltaLog(store: store, tablePath: "t").snapshot()
            XCTFail("unknown reader feature")
        } catch {
            XCTAssertTrue("\(error)".contains("somethingNew"), "\(error)")
            XCTAssertFalse("\(error)".contains("timestampNtz"), "\(error)")
        }
        // Before the protocol upgrade the table is readable.
        let v3 = try await DeltaLog(store: store, tablePath: "t").snapshot(version: 3)
        XCTAssertEqual(v3.protocolAction.minReaderVersion, 1)
    }

    func testDeletionVectorsAndPercentEncodedPaths() async throws {
        let store = MemoryStore()
        let dv = #""deletionVector":{"storageType":"u","pathOrInlineDv":"abc","offset":1,"sizeInBytes":10,"cardinality":4}"#
        commit(store, 0, [#"{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}}"#,
                          metaData("dv"), add("x%20y.parquet", rows: 10, min: 0, max: 9)])
        commit(store, 1, [#"{"remove":{"path":"x y.parquet","dataChange":true}}"#,
                          #"{"add":{"path":"x y.parquet","partitionValues":{},"size":100,"modificationTime":2,"dataChange":true,"stats":"{\"numRecords\":10}",\#(dv)}}"#])
        let s = try await DeltaLog(store: store, tablePath: "t").snapshot()
        let summary = s.summarize()
        XCTAssertEqual(s.files.count, 1)
        XCTAssertEqual(summary.rowCount, 6)
        XCTAssertEqual(summary.deletedByDeletionVectors, 4)
    }

    func testHistoryNewestFirstWithLimit() async throws {
        let history = try await DeltaLog(store: table(), tablePath: "t").history(limit: 2)
        XCTAssertEqual(history.commits.map(\.version), [3, 2])
        XCTAssertEqual(history.commits.map(\.operation), ["OP3", "OP2"])
        XCTAssertEqual(history.commits[0].operationParameters["v"], .string("3"))
        XCTAssertEqual(history.commits[0].timestampSource, "commitInfo")
        XCTAssertTrue(history.truncated)
        XCTAssertEqual(history.earliestAvailableVersion, 0)
    }

    func testNotATable() async {
        do {
            _ = try await DeltaLog(store: MemoryStore(), tablePath: "nothing").snapshot()
            XCTFail("no log")
        } catch {
            XCTAssertTrue("\(error)".contains("not a Delta table"), "\(error)")
        }
    }

    func testListingClassifiesCheckpoints() {
        let p = "t/_delta_log/"
        func info(_ name: String) -> ObjectInfo { ObjectInfo(key: p + name, size: 1) }
        let listing = DeltaLogListing(logPrefix: p, objects: [
            info("00000000000000000000.json"), info("00000000000000000001.json"),
            info("00000000000000000002.checkpoint.0000000001.0000000002.parquet"),  // incomplete multi-part: ignored
            info("00000000000000000003.checkpoint.0000000002.0000000002.parquet"),
            info("00000000000000000003.checkpoint.0000000001.0000000002.parquet"),
            info("00000000000000000004.checkpoint.parquet"), info("00000000000000000005.json"),
            info("00000000000000000006.checkpoint.3a0d65cd-4056-49b8-937b-95f9e3ee90e5.parquet"),
            info("_last_checkpoint"), info("_sidecars/00000000000000000006.json"), info("00000000000000000007.crc"),
        ])
        XCTAssertEqual(listing.commits.keys.sorted(), [0, 1, 5])
        XCTAssertEqual(listing.checkpoints.map(\.version), [3, 4])
        XCTAssertEqual(listing.checkpoints[0].parts, [p + "00000000000000000003.checkpoint.0000000001.0000000002.parquet",
                                                     p + "00000000000000000003.checkpoint.0000000002.0000000002.parquet"])
        XCTAssertEqual(listing.v2CheckpointVersions, [6])
        XCTAssertEqual(listing.latestVersion, 5)
        XCTAssertEqual(listing.earliestReconstructableVersion, 4)
        let plan = try? listing.plan(for: 5)
        XCTAssertEqual(plan?.checkpoint?.version, 4)
        XCTAssertEqual(plan?.commits.map(\.key), [p + "00000000000000000005.json"])
        XCTAssertThrowsError(try listing.plan(for: 2))
    }

    func testSchemaRendering() throws {
        let schema = try DeltaSchema(schemaString: #"""
            {"type":"struct","fields":[
              {"name":"a","type":{"type":"array","elementType":{"type":"struct","fields":[{"name":"x","type":"decimal(10,2)","nullable":true,"metadata":{}}]},"containsNull":true},"nullable":true,"metadata":{}},
              {"name":"m","type":{"type":"map","keyType":"string","valueType":{"type":"array","elementType":"long","containsNull":false},"valueContainsNull":true},"nullable":false,"metadata":{}},
              {"name":"s","type":{"type":"struct","fields":[{"name":"t","type":"timestamp_ntz","nullable":true,"metadata":{"delta.columnMapping.physicalName":"col-1"}}]},"nullable":true,"metadata":{}}]}
            """#)
        XCTAssertEqual(schema.fields.map(\.type.description), ["array<struct<x: decimal(10,2)>>", "map<string, array<long>>", "struct<t: timestamp_ntz>"])
        XCTAssertEqual(schema.leafColumns.map { $0.path.joined(separator: ".") }, ["a", "m", "s.t"])
        XCTAssertEqual(schema.leafColumns[2].physicalPath, ["s", "col-1"])
        XCTAssertThrowsError(try DeltaSchema(schemaString: "{"))
    }

    func testTimestampOrderingAcrossFormats() {
        XCTAssertEqual(DeltaValueOrder.timestampMicros("1970-01-01T00:00:01.5Z"), 1_500_000)
        XCTAssertEqual(DeltaValueOrder.timestampMicros("2024-01-01T01:00:00.000+01:00"), DeltaValueOrder.timestampMicros("2024-01-01T00:00:00Z"))
        XCTAssertTrue(DeltaValueOrder.less(.string("2024-01-01T00:00:00.000+01:00"), .string("2023-12-31T23:30:00.000Z"), .primitive("timestamp")))
    }
}
