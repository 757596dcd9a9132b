import S3DeltaFormats
import XCTest

final class CSVScannerTests: XCTestCase {
    let quoted = Array("id,text\n1,\"a, b\"\n2,\"line\nbreak \"\"q\"\"\"\r\n3,\"\"\r4,x\"y\n5,\"ab\"cd\n".utf8)
    let expected = [
        ["id", "text"], ["1", "a, b"], ["2", "line\nbreak \"q\""], ["3", ""], ["4", "x\"y"], ["5", "abcd"],
    ]

    func testQuotedFieldsDoubledQuotesAndAllLineEndings() throws {
        XCTAssertEqual(try csvRecords(quoted), expected)
    }

    /// Any split into chunks gives the same records: state carried across boundaries is exact,
    /// including a split between the two quotes of `""` and between `\r` and `\n`.
    func testEveryChunkSizeGivesTheSameRecords() throws {
        for chunk in 1...quoted.count {
            XCTAssertEqual(try csvRecords(quoted, chunk: chunk), expected, "chunk \(chunk)")
        }
    }

    func testLastRecordWithoutNewlineAndBlankLines() throws {
        XCTAssertEqual(try csvRecords(Array("a,b\n\n1,2\n\n3,4".utf8)), [["a", "b"], ["1", "2"], ["3", "4"]])
        XCTAssertEqual(try csvRecords(Array("a,\n,\n".utf8)), [["a", ""], ["", ""]])
    }

    func testOtherDelimitersAndNoQuoting() throws {
        XCTAssertEqual(try csvRecords(Array("a;b\n\"x;y\";z\n".utf8), delimiter: UInt8(ascii: ";")), [["a", "b"], ["x;y", "z"]])
        XCTAssertEqual(try csvRecords(Array("a\tb\n\"x\"\ty\n".utf8), delimiter: 0x09, quote: 0), [["a", "b"], ["\"x\"", "y"]])
    }

    func testLineNumbersCountEmbeddedNewlines() throws {
        let text = Array("h\n\"a\nb\nc\"\nx\n".utf8)
        var stream = CSVRecordStream(scanner: CSVScanner(delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "\"")), startOffset: 0)
        var lines: [Int] = []
        var offsets: [Int] = []
        _ = try stream.feed(text, final: true) { record in
            lines.append(record.line)
            offsets.append(record.offset)
            return true
        }
        XCTAssertEqual(lines, [1, 2, 5])
        XCTAssertEqual(offsets, [0, 2, 10])
    }

    func testUnterminatedQuoteIsFlaggedAndBoundedByTheRecordLimit() throws {
        let scanner = CSVScanner(delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "\""))
        var stream = CSVRecordStream(scanner: scanner, startOffset: 0, maxRecordBytes: 64)
        var flagged = false
        _ = try stream.feed(Array("a,\"open\nmore".utf8), final: true) { record in
            flagged = flagged || record.unterminatedQuote
            return true
        }
        XCTAssertTrue(flagged)
        var bounded = CSVRecordStream(scanner: scanner, startOffset: 0, maxRecordBytes: 64)
        XCTAssertThrowsError(try bounded.feed(Array("a,\"".utf8) + [UInt8](repeating: 65, count: 100), final: false) { _ in true }) {
            XCTAssertEqual($0 as? CSVError, .recordTooLong(line: 1, limit: 64))
        }
    }

    func testInvalidUTF8ReportsAbsoluteOffsetAndLine() throws {
        let text = Array("a,b\n1,ok\n2,".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        XCTAssertThrowsError(try csvRecords(text, chunk: 5)) {
            XCTAssertEqual($0 as? CSVError, .invalidUTF8(offset: 11, line: 3, byte: 0xC3))
        }
    }

    func testUTF8Validator() {
        func firstInvalid(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBufferPointer(CSVText.firstInvalidUTF8) }
        XCTAssertNil(firstInvalid(Array("plain ascii, longer than eight bytes".utf8)))
        XCTAssertNil(firstInvalid(Array("é € 𝄞 中文".utf8)))
        XCTAssertEqual(firstInvalid([0x41, 0xC0, 0x80]), 1)  // overlong
        XCTAssertEqual(firstInvalid([0xED, 0xA0, 0x80]), 0)  // UTF-16 surrogate
        XCTAssertEqual(firstInvalid([0xF4, 0x90, 0x80, 0x80]), 0)  // above U+10FFFF
        XCTAssertEqual(firstInvalid(Array("abcdefgh".utf8) + [0xE2, 0x82]), 8)  // cut off
        XCTAssertEqual(firstInvalid([0x80]), 0)  // lone continuation byte
    }

    /// Random bytes (quotes, delimiters, line breaks and UTF-8 over-represented) never crash the
    /// scanner, and every byte fed ends up in exactly one record whatever the chunking.
    func testRandomInputIsCoveredExactlyOnceAtAnyChunking() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let alphabet: [UInt8] = Array("ab,;\t|\"'\r\n ".utf8) + [0xC3, 0xA9]
        let scanner = CSVScanner(delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "\""))
        for round in 0..<200 {
            let length = Int(next() % 300)
            let input = (0..<length).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            let chunk = 1 + Int(next() % 17)
            var stream = CSVRecordStream(scanner: scanner, startOffset: 0)
            var covered = 0
            var offset = 0
            repeat {
                let end = min(input.count, offset + chunk)
                do {
                    _ = try stream.feed(Array(input[offset..<end]), final: end == input.count) { record in
                        XCTAssertEqual(record.offset, covered, "round \(round)")
                        covered += record.byteCount
                        for field in record.fields {
                            XCTAssertLessThanOrEqual(field.start, field.end)
                            XCTAssertLessThanOrEqual(field.end, record.buffer.count)
                        }
                        return true
                    }
                } catch CSVError.invalidUTF8 {
                    covered = -1  // a lone 0xC3 / 0xA9: refused, which is the point
                    break
                }
                offset = end
            } while offset < input.count
            if covered >= 0 { XCTAssertEqual(covered, input.count, "round \(round)") }
        }
    }
}
