import S3DeltaFormats
import XCTest

final class CSVAnalyzerTests: XCTestCase {
    func generated(rows: Int) -> [UInt8] {
        var text = "id,label,value\n"
        var state: UInt64 = 42
        for i in 0..<rows {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 59) + 1
            text += "\(i),\(String(repeating: "z", count: length)),\(Double(i) / 4)\n"
        }
        return Array(text.utf8)
    }

    func testExactStreamingInSmallChunksCountsEveryRow() async throws {
        let data = generated(rows: 5000)
        let store = CSVMemoryStore(["f.csv": data])
        var options = CSVOptions(exactMaxBytes: Int.max)
        options.chunkBytes = 997  // records straddle every chunk boundary
        options.sampleBytes = 4096
        let m = try await CSVAnalyzer.metadata(store: store, key: "f.csv", options: options)
        XCTAssertTrue(m.rowCountExact)
        XCTAssertEqual(m.rowCount, 5000)
        XCTAssertEqual(m.columns.map(\.name), ["id", "label", "value"])
        XCTAssertEqual(m.columns.map(\.type), [.integer, .string, .float])
        XCTAssertEqual(m.columns[0].range?.max, .integer(4999))
        XCTAssertEqual(m.bytesScanned, data.count)
        // Bounded reads: none larger than a chunk or the head sample.
        XCTAssertTrue(store.reads.allSatisfy { $0.count <= 4096 })
    }

    func testEstimateReadsThreeSamplesAndIsClose() async throws {
        let data = generated(rows: 200_000)
        let store = CSVMemoryStore(["f.csv": data])
        var options = CSVOptions(exactMaxBytes: 1 << 20)
        options.sampleBytes = 64 << 10
        let m = try await CSVAnalyzer.metadata(store: store, key: "f.csv", options: options)
        XCTAssertFalse(m.rowCountExact)
        XCTAssertLessThan(abs(Double(m.rowCount) - 200_000) / 200_000, 0.05, "\(m.rowCount)")
        XCTAssertEqual(store.reads.count, 3)
        XCTAssertLessThanOrEqual(m.bytesScanned, 3 * (64 << 10))
        XCTAssertEqual(m.columns.map(\.type), [.integer, .string, .float])
        XCTAssertTrue(m.rowCountMethod.hasPrefix("estimated"))
    }

    func testEmptyBomAndHeaderOnly() async throws {
        let store = CSVMemoryStore([
            "empty.csv": [], "bom.csv": CSVText.bom + Array("a,b\n1,2\n".utf8), "h.csv": Array("x,y\n".utf8),
            "utf16.csv": [0xFF, 0xFE, 0x61, 0x00],
        ])
        let options = CSVOptions(exactMaxBytes: 1 << 20)
        let empty = try await CSVAnalyzer.metadata(store: store, key: "empty.csv", options: options)
        XCTAssertEqual(empty.rowCount, 0)
        XCTAssertTrue(empty.columns.isEmpty)
        let bom = try await CSVAnalyzer.metadata(store: store, key: "bom.csv", options: options)
        XCTAssertTrue(bom.bom)
        XCTAssertEqual(bom.columns.map(\.name), ["a", "b"])
        let headerOnly = try await CSVAnalyzer.metadata(store: store, key: "h.csv", options: options)
        XCTAssertTrue(headerOnly.hasHeader)
        XCTAssertEqual(headerOnly.rowCount, 0)
        do {
            _ = try await CSVAnalyzer.metadata(store: store, key: "utf16.csv", options: options)
            XCTFail("UTF-16 accepted")
        } catch let error as CSVError {
            XCTAssertTrue(error.description.contains("UTF-16"))
        }
    }

    func testInvalidUTF8OffsetCountsTheBOM() async throws {
        let data = CSVText.bom + Array("a,b\n1,".utf8) + [0xFF] + Array("\n".utf8)
        let store = CSVMemoryStore(["f.csv": data])
        for tool in ["metadata", "preview"] {
            do {
                if tool == "metadata" {
                    _ = try await CSVAnalyzer.metadata(store: store, key: "f.csv", options: CSVOptions(exactMaxBytes: 1 << 20))
                } else {
                    _ = try await CSVAnalyzer.preview(store: store, key: "f.csv", rows: 5, maxBytes: 1 << 20, options: CSVOptions(exactMaxBytes: 0))
                }
                XCTFail("invalid UTF-8 accepted by \(tool)")
            } catch let error as CSVError {
                XCTAssertEqual(error, .invalidUTF8(offset: 9, line: 2, byte: 0xFF), tool)
            }
        }
    }

    func testPreviewStopsAtTheRowLimit() async throws {
        let data = generated(rows: 1000)
        let store = CSVMemoryStore(["f.csv": data])
        let p = try await CSVAnalyzer.preview(store: store, key: "f.csv", rows: 3, maxBytes: 1 << 20, options: CSVOptions(exactMaxBytes: 0))
        XCTAssertEqual(p.columns, ["id", "label", "value"])
        XCTAssertEqual(p.rows.map { $0[0] }, ["0", "1", "2"])
        XCTAssertTrue(p.truncated)
        let small = try await CSVAnalyzer.preview(store: store, key: "f.csv", rows: 10, maxBytes: 100, options: CSVOptions(exactMaxBytes: 0))
        XCTAssertTrue(small.truncated)
        XCTAssertEqual(small.bytesRead, 100)
    }
}
