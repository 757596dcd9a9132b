import XCTest

@testable import S3DeltaFormats

final class ParquetEncodingTests: XCTestCase {
    func testBitPackedRunFromTheSpec() throws {
        // parquet-format Encodings.md: 0..7 at bit width 3 pack to 10001000 11000110 11111010.
        let bytes: [UInt8] = [0x03, 0x88, 0xC6, 0xFA]  // header (1 group << 1) | 1
        var d = RLEBitPackedDecoder(bytes, range: 0..<bytes.count, bitWidth: 3)
        XCTAssertEqual(try d.decode(count: 8), [0, 1, 2, 3, 4, 5, 6, 7])
    }

    func testRLERunsAndMixedRuns() throws {
        // RLE: 5 × 1 (width 1), then 3 × 258 (width 9 → 2 value bytes), then a bit-packed group of 8 at width 9.
        var bytes: [UInt8] = [5 << 1, 0x01]
        var wide = RLEBitPackedDecoder(bytes, range: 0..<bytes.count, bitWidth: 1)
        XCTAssertEqual(try wide.decode(count: 5), [1, 1, 1, 1, 1])
        bytes = [3 << 1, 0x02, 0x01] + pack([500, 1, 2, 3, 4, 5, 6, 511], width: 9)
        var mixed = RLEBitPackedDecoder(bytes, range: 0..<bytes.count, bitWidth: 9)
        XCTAssertEqual(try mixed.decode(count: 11), [258, 258, 258, 500, 1, 2, 3, 4, 5, 6, 511])
    }

    func testCountStopsInsideARunAndZeroWidth() throws {
        let bytes: [UInt8] = [60 << 1, 0x02]
        var d = RLEBitPackedDecoder(bytes, range: 0..<bytes.count, bitWidth: 2)
        XCTAssertEqual(try d.decode(count: 3), [2, 2, 2])
        var zero = RLEBitPackedDecoder([], range: 0..<0, bitWidth: 0)
        XCTAssertEqual(try zero.decode(count: 4), [0, 0, 0, 0])
    }

    func testTruncatedRunsAreErrors() {
        var d = RLEBitPackedDecoder([0x03, 0x88], range: 0..<2, bitWidth: 3)
        XCTAssertThrowsError(try d.decode(count: 8))
        var e = RLEBitPackedDecoder([5 << 1], range: 0..<1, bitWidth: 8)
        XCTAssertThrowsError(try e.decode(count: 5))
    }

    func testBitWidthOfLevels() {
        XCTAssertEqual([0, 1, 2, 3, 4, 7, 8].map(bitWidth(of:)), [0, 1, 2, 2, 3, 3, 4])
    }

    func testPlainValues() throws {
        let ints: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0, 0, 0]
        XCTAssertEqual(try decodePlain(ints, range: 0..<8, count: 2, type: .int32, typeLength: nil), [.int(-1), .int(2)])
        let bools: [UInt8] = [0b0000_0101]
        XCTAssertEqual(try decodePlain(bools, range: 0..<1, count: 3, type: .boolean, typeLength: nil), [.bool(true), .bool(false), .bool(true)])
        let strings: [UInt8] = [2, 0, 0, 0, 0x68, 0x69, 0, 0, 0, 0]
        XCTAssertEqual(try decodePlain(strings, range: 0..<10, count: 2, type: .byteArray, typeLength: nil),
                       [.bytes(Array("hi".utf8)), .bytes([])])
        let double = withUnsafeBytes(of: (2.5 as Double).bitPattern.littleEndian, Array.init)
        XCTAssertEqual(try decodePlain(double, range: 0..<8, count: 1, type: .double, typeLength: nil), [.double(2.5)])
        XCTAssertThrowsError(try decodePlain(strings, range: 0..<10, count: 3, type: .byteArray, typeLength: nil))
        XCTAssertThrowsError(try decodePlain([1, 2, 3], range: 0..<3, count: 1, type: .int64, typeLength: nil))
    }

    func testStatisticRendering() {
        func le32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        func le64(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        XCTAssertEqual(ParquetValueRendering.render(le32(19_723), physical: .int32, logical: .date), .string("2024-01-01"))
        XCTAssertEqual(ParquetValueRendering.render(le32(-1), physical: .int32, logical: .integer(bitWidth: 32, signed: false)), .int(4_294_967_295))
        XCTAssertEqual(ParquetValueRendering.render(le64(1_704_067_200_123), physical: .int64, logical: .timestamp(unit: "MILLIS", adjustedToUTC: true)),
                       .string("2024-01-01T00:00:00.123Z"))
        XCTAssertEqual(ParquetValueRendering.render(le64(-1), physical: .int64, logical: .timestamp(unit: "MICROS", adjustedToUTC: true)),
                       .string("1969-12-31T23:59:59.999999Z"))
        XCTAssertEqual(ParquetValueRendering.render(le32(-12_345), physical: .int32, logical: .decimal(scale: 2, precision: 9)), .string("-123.45"))
        XCTAssertEqual(ParquetValueRendering.render(le32(5), physical: .int32, logical: .decimal(scale: 3, precision: 9)), .string("0.005"))
        // Big-endian two's complement: 0xFF…FF85 = -123 → -1.23.
        XCTAssertEqual(ParquetValueRendering.render([0xFF, 0xFF, 0xFF, 0x85], physical: .fixedLenByteArray, logical: .decimal(scale: 2, precision: 9)),
                       .string("-1.23"))
        XCTAssertEqual(ParquetValueRendering.render(Array(repeating: 0xFF, count: 16) , physical: .fixedLenByteArray, logical: .decimal(scale: 0, precision: 38)),
                       .string("-1"))
        XCTAssertEqual(ParquetValueRendering.render([0x00, 0xFF], physical: .byteArray, logical: nil), .string("0x00ff"))
        XCTAssertEqual(ParquetValueRendering.render(Array("é".utf8), physical: .byteArray, logical: .string), .string("é"))
    }
}

/// Bit-packs `values` LSB first at `width` bits, with the bit-packed run header (groups of 8).
func pack(_ values: [Int], width: Int) -> [UInt8] {
    precondition(values.count % 8 == 0)
    var out = [UInt8((values.count / 8) << 1 | 1)]
    var bits: [Bool] = []
    for v in values { for b in 0..<width { bits.append(v >> b & 1 == 1) } }
    var byte: UInt8 = 0
    for (i, bit) in bits.enumerated() {
        if bit { byte |= 1 << UInt8(i % 8) }
        if i % 8 == 7 { out.append(byte); byte = 0 }
    }
    return out
}
