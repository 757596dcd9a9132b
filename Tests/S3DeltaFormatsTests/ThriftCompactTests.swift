import XCTest

@testable import S3DeltaFormats

final class ThriftCompactTests: XCTestCase {
    func testVarintsAndZigzag() throws {
        // 300 = 0b1_0010_1100 → 0xAC 0x02 (LEB128).
        var r = ThriftCompactReader([0xAC, 0x02])
        XCTAssertEqual(try r.varint(), 300)
        // Zigzag: 0→0, -1→1, 1→2, -2→3, 2147483647→4294967294, -2147483648→4294967295.
        for (encoded, decoded): (UInt64, Int64) in [(0, 0), (1, -1), (2, 1), (3, -2), (4_294_967_294, 2_147_483_647), (4_294_967_295, -2_147_483_648)] {
            var reader = ThriftCompactReader(leb128(encoded))
            XCTAssertEqual(try reader.zigzag(), decoded, "zigzag \(encoded)")
        }
        var big = ThriftCompactReader(leb128(UInt64.max))
        XCTAssertEqual(try big.zigzag(), Int64.min)
    }

    func testShortAndLongFieldHeadersAndTypes() throws {
        let bytes: [UInt8] =
            [0x15] + leb128(zz(-7))            // field 1, i32, delta 1
            + [0x26] + leb128(zz(1 << 40))     // field 3, i64, delta 2
            + [0x11]                           // field 4, bool true (type 1) in the header
            + [0x12]                           // field 5, bool false (type 2)
            + [0x18, 0x03] + Array("abc".utf8) // field 6, binary
            + [0x05] + leb128(zz(300)) + leb128(zz(42))  // long form: delta 0, i32, then the field id 300
            + [0x00]
        var r = ThriftCompactReader(bytes)
        let s = try r.readStruct()
        XCTAssertEqual(s.int(1), -7)
        XCTAssertEqual(s.int(3), 1 << 40)
        XCTAssertEqual(s.bool(4), true)
        XCTAssertEqual(s.bool(5), false)
        XCTAssertEqual(s.string(6), "abc")
        XCTAssertEqual(s.int(300), 42)
        XCTAssertEqual(r.position, bytes.count, "position tells where the struct ended")
    }

    func testListsNestedStructsAndSkippedTypes() throws {
        let bytes: [UInt8] =
            [0x19, 0x35] + leb128(zz(1)) + leb128(zz(2)) + leb128(zz(3))  // field 1: list<i32> of 3
            + [0x1C]                                                      // field 2: struct
            + [0x18, 0x01, 0x78, 0x00]                                    //   field 1 binary "x", stop
            + [0x17] + [0, 0, 0, 0, 0, 0, 0xF8, 0x3F]                     // field 3: double 1.5
            + [0x1B, 0x02, 0x51] + leb128(zz(7)) + [0x01] + leb128(zz(8)) + [0x02]  // field 4: map<i32,bool> of 2
            + [0x19, 0xF8] + leb128(16) + Array(repeating: [0x01, 0x61], count: 16).flatMap { $0 }  // field 5: 16 binaries (long count)
            + [0x00]
        var r = ThriftCompactReader(bytes)
        let s = try r.readStruct()
        XCTAssertEqual(s.list(1)?.compactMap(\.asInt), [1, 2, 3])
        XCTAssertEqual(s.structure(2)?.string(1), "x")
        if case .double(let d)? = s[3] { XCTAssertEqual(d, 1.5) } else { XCTFail("double") }
        if case .map(let entries)? = s[4] {
            XCTAssertEqual(entries.count, 2)
            XCTAssertEqual(entries[0].0.asInt, 7)
            if case .bool(let b) = entries[0].1 { XCTAssertTrue(b) } else { XCTFail("bool") }
        } else { XCTFail("map") }
        XCTAssertEqual(s.list(5)?.count, 16)
    }

    func testCorruptInputIsAnErrorNotACrash() {
        var truncated = ThriftCompactReader([0x18, 0x10, 0x61])  // binary of 16 bytes, 1 present
        XCTAssertThrowsError(try truncated.readStruct())
        var unknownType = ThriftCompactReader([0x1F])
        XCTAssertThrowsError(try unknownType.readStruct())
        var noStop = ThriftCompactReader([0x15, 0x02])
        XCTAssertThrowsError(try noStop.readStruct())
        // 100 nested structs exceed the depth bound.
        var deep = ThriftCompactReader(Array(repeating: 0x1C, count: 100) + Array(repeating: 0x00, count: 100))
        XCTAssertThrowsError(try deep.readStruct()) { XCTAssertTrue("\($0)".contains("deeper")) }
        var hugeList = ThriftCompactReader([0x19, 0xF5] + leb128(1 << 40))
        XCTAssertThrowsError(try hugeList.readStruct())
    }
}

func leb128(_ value: UInt64) -> [UInt8] {
    var v = value
    var out: [UInt8] = []
    repeat {
        var b = UInt8(v & 0x7F)
        v >>= 7
        if v != 0 { b |= 0x80 }
        out.append(b)
    } while v != 0
    return out
}

func zz(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
