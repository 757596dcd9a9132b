import CSnappy
import XCTest

final class SnappyLinkTests: XCTestCase {
    /// libsnappy is linked and round-trips (the Parquet reader's page codec).
    func testSnappyRoundTrip() throws {
        let input = Array(repeating: Array("delta-log ".utf8), count: 50).flatMap { $0 }
        var compressedLength = snappy_max_compressed_length(input.count)
        var compressed = [CChar](repeating: 0, count: compressedLength)
        let status = input.withUnsafeBufferPointer { src in
            src.withMemoryRebound(to: CChar.self) { snappy_compress($0.baseAddress, input.count, &compressed, &compressedLength) }
        }
        XCTAssertEqual(status, SNAPPY_OK)
        XCTAssertLessThan(compressedLength, input.count)
        var outLength = input.count
        var output = [CChar](repeating: 0, count: outLength)
        XCTAssertEqual(snappy_uncompress(compressed, compressedLength, &output, &outLength), SNAPPY_OK)
        XCTAssertEqual(output.map { UInt8(bitPattern: $0) }, input)
    }
}
