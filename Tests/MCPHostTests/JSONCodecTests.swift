import XCTest

@testable import MCPJSON

final class JSONCodecTests: XCTestCase {

    // MARK: Helpers

    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue? {
        do { return try JSONValue.parse(text) } catch {
            XCTFail("unexpected parse error for \(text.debugDescription): \(error)", file: file, line: line)
            return nil
        }
    }

    private func assertRejects(_ bytes: [UInt8], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSONValue.parse(bytes), "accepted \(label)", file: file, line: line) { error in
            XCTAssertTrue(error is JSONParseError, "\(label): wrong error type \(type(of: error))", file: file, line: line)
        }
    }

    private func assertRejects(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        assertRejects(Array(text.utf8), text.debugDescription, file: file, line: line)
    }

    // MARK: Round trips

    func testCompactRoundTrips() throws {
        let documents = [
            "null", "true", "false", "0", "-1", "42", "3.5", "-0.25", "\"\"", "\"hi\"", "[]", "{}",
            "[1,2,3]", "[[],[[]],{}]",
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}"#,
            #"{"a":[1,{"b":null,"c":[true,false]}],"d":"x"}"#,
            "9223372036854775807", "-9223372036854775808",
        ]
        for document in documents {
            let value = try JSONValue.parse(document)
            XCTAssertEqual(value.jsonString, document)
            XCTAssertEqual(try JSONValue.parse(value.serialized()), value, document)
        }
    }

    func testWhitespaceIsAllowedAroundTokens() throws {
        let value = try JSONValue.parse(" \n\t{ \"a\" : [ 1 , 2 ] ,\r\n \"b\" : { } } \n")
        XCTAssertEqual(value.jsonString, #"{"a":[1,2],"b":{}}"#)
    }

    func testParsesFromBytesSlicesAndStrings() throws {
        let bytes: [UInt8] = Array(#"xx{"k":[1]}yy"#.utf8)
        XCTAssertEqual(try JSONValue.parse(bytes[2..<11]), ["k": [1]])
        XCTAssertEqual(try JSONValue.parse(Array(#"{"k":[1]}"#.utf8)), ["k": [1]])
        XCTAssertEqual(try JSONValue.parse(#"{"k":[1]}"#), ["k": [1]])
    }

    func testIntegralDoublesAreWrittenAsIntegers() throws {
        // `8e4` parses as a double and is written as `80000`, which parses back as an int:
        // semantically equal, a different enum case.
        let value = try JSONValue.parse("8e4")
        XCTAssertEqual(value, .double(80000))
        XCTAssertEqual(value.jsonString, "80000")
        XCTAssertEqual(try JSONValue.parse(value.jsonString), .int(80000))
        XCTAssertTrue(try JSONValue.parse(value.jsonString).jsonEquals(value))
    }

    func testNumbers() throws {
        XCTAssertEqual(try JSONValue.parse("0"), .int(0))
        XCTAssertEqual(try JSONValue.parse("-0"), .int(0))
        XCTAssertEqual(try JSONValue.parse("1.5e3"), .double(1500))
        XCTAssertEqual(try JSONValue.parse("1E2"), .double(100))
        XCTAssertEqual(try JSONValue.parse("2e-2"), .double(0.02))
        XCTAssertEqual(try JSONValue.parse("-1.25"), .double(-1.25))
        XCTAssertEqual(try JSONValue.parse("1.0"), .double(1.0))
        XCTAssertEqual(try JSONValue.parse("0.1").jsonString, "0.1")
        XCTAssertEqual(JSONValue.double(3.0).jsonString, "3")
        XCTAssertEqual(JSONValue.double(-0.0).jsonString, "0")
        for double in [0.1, 1e300, -2.5e-300, 123456.789, 1e15, 1e16, Double.pi] {
            XCTAssertEqual(try JSONValue.parse(JSONValue.double(double).serialized()).doubleValue, double)
        }
    }

    func testBigIntegersBeyondInt64BecomeDoubles() throws {
        XCTAssertEqual(try JSONValue.parse("9223372036854775807"), .int(Int64.max))
        XCTAssertEqual(try JSONValue.parse("-9223372036854775808"), .int(Int64.min))
        XCTAssertEqual(try JSONValue.parse("9223372036854775808"), .double(9_223_372_036_854_775_808))
        XCTAssertEqual(try JSONValue.parse("-9223372036854775809"), .double(-9_223_372_036_854_775_808.0))
        XCTAssertEqual(try JSONValue.parse("123456789012345678901234567890"), .double(1.2345678901234568e29))
        XCTAssertEqual(try JSONValue.parse("[18446744073709551616]"), [.double(18_446_744_073_709_551_616)])
    }

    func testNonFiniteDoublesSerializeAsNull() {
        XCTAssertEqual(JSONValue.double(.infinity).jsonString, "null")
        XCTAssertEqual(JSONValue.double(-.infinity).jsonString, "null")
        XCTAssertEqual(JSONValue.double(.nan).jsonString, "null")
        XCTAssertEqual(JSONValue.array([.double(.nan), 1, .double(.infinity)]).jsonString, "[null,1,null]")
        XCTAssertEqual(JSONValue.object(["x": .double(.nan)]).jsonString, #"{"x":null}"#)
    }

    // MARK: Strings and escapes

    func testEscapesDecode() throws {
        let value = try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00\u0000""#)
        XCTAssertEqual(value, .string("\"\\/\u{08}\u{0C}\n\r\tAé€😀\u{0}"))
    }

    func testSurrogatePairDecodesToOneScalar() throws {
        let value = try JSONValue.parse(#""\uD83D\uDE00""#)
        XCTAssertEqual(value.stringValue, "😀")
        XCTAssertEqual(value.stringValue?.unicodeScalars.count, 1)
        XCTAssertEqual(value.stringValue?.unicodeScalars.first?.value, 0x1F600)
    }

    func testNulCharacterRoundTrips() throws {
        let value = try JSONValue.parse(#""a\u0000b""#)
        XCTAssertEqual(value.stringValue?.utf8.count, 3)
        XCTAssertEqual(value.jsonString, #""a\u0000b""#)
        XCTAssertEqual(try JSONValue.parse(value.serialized()), value)
    }

    func testWriterEscapesControlCharactersQuotesAndBackslashes() throws {
        let original = JSONValue.string("q\"b\\n\nr\rt\tbs\u{08}ff\u{0C}c\u{01}\u{1F}del\u{7F}é😀/")
        let text = original.jsonString
        XCTAssertEqual(text, #""q\"b\\n\nr\rt\tbs\u0008ff\u000cc\u0001\u001fdel"# + "\u{7F}é😀/\"")
        XCTAssertFalse(text.utf8.contains(where: { $0 < 0x20 }), "raw control byte in output")
        XCTAssertEqual(try JSONValue.parse(text), original)
    }

    func testNonASCIIRoundTripsRaw() throws {
        let original: JSONValue = ["名前": "値", "emoji": "👩‍👩‍👧", "mixed": "a\u{300}"]
        let text = original.jsonString
        XCTAssertTrue(text.contains("名前"))
        XCTAssertEqual(try JSONValue.parse(text), original)
    }

    func testRandomStringsRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        let pool: [Unicode.Scalar] = ["a", "\"", "\\", "/", "\n", "\u{0}", "\u{1F}", "é", "€", "😀", "\u{FFFF}", "\u{10FFFF}", " "]
        for _ in 0..<200 {
            var string = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0..<20, using: &generator) { string.append(pool.randomElement(using: &generator)!) }
            let value = JSONValue.array([.string(String(string)), ["k\(string.count)": .string(String(string))]])
            XCTAssertEqual(try JSONValue.parse(value.serialized()), value)
        }
    }

    // MARK: Objects

    func testKeyOrderIsPreserved() throws {
        let value = try JSONValue.parse(#"{"b":1,"a":2,"c":3,"aa":4}"#)
        XCTAssertEqual(value.objectValue?.keys, ["b", "a", "c", "aa"])
        XCTAssertEqual(value.jsonString, #"{"b":1,"a":2,"c":3,"aa":4}"#)
        let literal: JSONValue = ["z": 1, "y": 2, "x": 3]
        XCTAssertEqual(literal.jsonString, #"{"z":1,"y":2,"x":3}"#)
    }

    func testDuplicateKeysLastWins() throws {
        let small = try JSONValue.parse(#"{"a":1,"b":2,"a":3}"#)
        XCTAssertEqual(small.objectValue?.count, 2)
        XCTAssertEqual(small["a"], 3)
        XCTAssertEqual(small.objectValue?.keys, ["a", "b"])

        // Beyond the small-object fast path.
        let keys = (0..<20).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let large = try JSONValue.parse("{\(keys),\"k3\":\"last\",\"k19\":true}")
        XCTAssertEqual(large.objectValue?.count, 20)
        XCTAssertEqual(large["k3"], "last")
        XCTAssertEqual(large["k19"], true)
        XCTAssertEqual(large.objectValue?.keys, (0..<20).map { "k\($0)" })

        // A duplicate landing exactly at the boundary.
        let sixteen = (0..<16).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let boundary = try JSONValue.parse("{\(sixteen),\"k0\":\"again\"}")
        XCTAssertEqual(boundary.objectValue?.count, 16)
        XCTAssertEqual(boundary["k0"], "again")
    }

    func testObjectMutation() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = "x"
        object["c"] = 3
        object["b"] = nil
        XCTAssertEqual(object.keys, ["a", "c"])
        XCTAssertEqual(object["a"], "x")
        XCTAssertNil(object["b"])
    }

    /// Keys match by code points: canonically equivalent spellings are different keys, and long
    /// (heap) and short (inline) strings compare alike.
    func testKeysMatchByBytes() throws {
        let object = try JSONValue.parse(#"{"caf\u00e9":1,"cafe\u0301":2,"a-much-longer-key-than-fifteen-bytes":3,"":4}"#)
        XCTAssertEqual(object["caf\u{E9}"], 1)
        XCTAssertEqual(object["cafe\u{301}"], 2)
        XCTAssertEqual(object.objectValue?.count, 4)
        XCTAssertEqual(object["a-much-longer-key-than-fifteen-bytes"], 3)
        XCTAssertNil(object["a-much-longer-key-than-fifteen-byteS"])
        XCTAssertEqual(object[""], 4)
        XCTAssertTrue(JSONObject.sameBytes(String(repeating: "k", count: 40), "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"))
        XCTAssertFalse(JSONObject.sameBytes("ab", "ba"))
    }

    func testSemanticEquality() throws {
        XCTAssertTrue(JSONValue.int(1).jsonEquals(.double(1.0)))
        XCTAssertFalse(JSONValue.int(1).jsonEquals(.double(1.5)))
        XCTAssertFalse(JSONValue.int(1).jsonEquals("1"))
        XCTAssertFalse(JSONValue.bool(true).jsonEquals(1))
        XCTAssertTrue(try JSONValue.parse(#"{"a":1,"b":[1,2]}"#).jsonEquals(try JSONValue.parse(#"{"b":[1.0,2],"a":1}"#)))
        XCTAssertFalse(try JSONValue.parse(#"{"a":1}"#).jsonEquals(try JSONValue.parse(#"{"a":1,"b":2}"#)))
        XCTAssertFalse(try JSONValue.parse("[1,2]").jsonEquals(try JSONValue.parse("[2,1]")))
    }

    // MARK: Rejections

    func testTruncatedInputsAreRejected() {
        for text in [
            "", " ", "{", "[", "[1", "[1,", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,", "\"abc", "\"abc\\", "\"\\u12",
            "t", "tru", "fals", "nul", "-", "1e", "1e+", "1.", "{\"a\":[1,{\"b\":",
        ] {
            assertRejects(text)
        }
    }

    func testTrailingGarbageIsRejected() {
        for text in ["1 2", "[] x", "{}}", "[]]", "nullx", "true false", "\"a\"\"b\"", "0x10", "1,"] {
            assertRejects(text)
        }
    }

    func testMalformedNumbersAreRejected() {
        for text in ["01", "-01", "00", "1.", "-", "+1", ".5", "1.e3", "1e", "1e+", "-.5", "--1", "0.1.2", "1ee2", "NaN",
            "Infinity", "-Infinity", "1e400", "-1e400", "[01]", "{\"a\":1.}"]
        {
            assertRejects(text)
        }
    }

    func testMalformedStructureIsRejected() {
        for text in [
            "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{a:1}", "{\"a\" 1}", "{\"a\":}", "{1:2}", "[1 2]", "{\"a\":1 \"b\":2}",
            "'a'", "True", "undefined", "[}", "{]",
        ] {
            assertRejects(text)
        }
    }

    func testBadEscapesAndControlCharactersAreRejected() {
        for text in [
            #""\x""#, #""\u12G4""#, #""\uZZZZ""#, #""\U0041""#, #""\'""#, "\"\\\n\"",
            "\"a\u{01}b\"", "\"tab\there\"", "\"new\nline\"", "\"\u{1F}\"", "\"\u{0}\"",
        ] {
            assertRejects(text)
        }
    }

    func testLoneSurrogatesAreRejected() {
        for text in [
            #""\ud800""#, #""\uD800x""#, #""\udc00""#, #""\uDFFF""#, #""\ud800\u0041""#, #""\ud800\ud800""#,
            #""\ud800\""#, #""\ude00\ud83d""#, #""a\udbff""#,
        ] {
            assertRejects(text)
        }
    }

    func testInvalidUTF8IsRejected() {
        let cases: [(String, [UInt8])] = [
            ("lone 0xFF", [0x22, 0xFF, 0x22]),
            ("lone continuation", [0x22, 0x80, 0x22]),
            ("truncated 2-byte", [0x22, 0xC3, 0x22]),
            ("overlong slash", [0x22, 0xC0, 0xAF, 0x22]),
            ("UTF-8 encoded surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22]),
            ("beyond U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]),
            ("invalid after escape", [0x22, 0x5C, 0x6E, 0xFF, 0x22]),
            ("invalid in key", Array(#"{""#.utf8) + [0xFE] + Array(#"":1}"#.utf8)),
            ("invalid outside string", [0x5B, 0xFF, 0x5D]),
        ]
        for (label, bytes) in cases { assertRejects(bytes, label) }
    }

    func testDeepNestingIsAnErrorNotACrash() {
        assertRejects(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
        assertRejects(String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000))
        assertRejects(String(repeating: "[", count: 10_000))
        assertRejects(String(repeating: "[{\"a\":", count: 5_000))
    }

    func testNestingLimitBoundary() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        XCTAssertNoThrow(try JSONValue.parse(ok))
        let tooDeep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        XCTAssertThrowsError(try JSONValue.parse(tooDeep))
        XCTAssertNoThrow(try JSONValue.parse(tooDeep, maxDepth: 129))
        XCTAssertThrowsError(try JSONValue.parse("[[1]]", maxDepth: 1))
    }

    func testErrorsCarryAnOffset() {
        XCTAssertThrowsError(try JSONValue.parse("[1,x]")) { error in
            guard let error = error as? JSONParseError else { return XCTFail("wrong error type") }
            XCTAssertEqual(error.offset, 3)
            XCTAssertTrue(error.description.contains("at byte 3"), error.description)
        }
        XCTAssertThrowsError(try JSONValue.parse("[1] x")) { error in
            XCTAssertEqual((error as? JSONParseError)?.offset, 4)
        }
    }

    func testGarbageNeverCrashes() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("{}[]\",:.-+eE0123456789tfnrulase\\u \n".utf8) + [0x00, 0xC3, 0xFF, 0x80]
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0..<24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            if let value = try? JSONValue.parse(bytes) {
                // Whatever parses must re-serialize to something that parses to an equal value
                // (semantically: `8e4` is written as `80000` and comes back as an integer) and
                // whose serialization is a fixpoint.
                let text = value.serialized()
                let again = try JSONValue.parse(text)
                XCTAssertTrue(again.jsonEquals(value), "\(value) -> \(again)")
                XCTAssertEqual(again.serialized(), text)
            }
        }
    }

    /// The string scan reads eight bytes at a time: an escape, a non-ASCII character or a raw
    /// control character is found at every offset within and across those words.
    func testStringScanFindsSpecialBytesAtEveryOffset() throws {
        for length in 0..<40 {
            for position in 0...length {
                let prefix = String(repeating: "a", count: position)
                let suffix = String(repeating: "b", count: length - position)
                for (escaped, decoded) in [("\\\"", "\""), ("\\\\", "\\"), ("\u{E9}", "\u{E9}"), ("\\n", "\n"), ("\u{1F600}", "\u{1F600}")] {
                    let value = try JSONValue.parse("\"\(prefix)\(escaped)\(suffix)\"")
                    XCTAssertEqual(value, .string(prefix + decoded + suffix), "\(length) \(position) \(escaped)")
                }
                var raw = Array("\"\(prefix)x\(suffix)\"".utf8)
                raw[1 + position] = 0x1F
                XCTAssertThrowsError(try JSONValue.parse(raw), "control at \(position) of \(length)")
                raw[1 + position] = 0xFF
                XCTAssertThrowsError(try JSONValue.parse(raw), "invalid UTF-8 at \(position) of \(length)")
            }
            let plain = String(repeating: "z", count: length)
            XCTAssertEqual(try JSONValue.parse("\"\(plain)\""), .string(plain))
            XCTAssertThrowsError(try JSONValue.parse("\"\(plain)"), "unterminated \(length)")
        }
    }

    /// Envelope keys and values come from the intern table; what the table does not hold, near
    /// misses, escaped spellings and non-ASCII text parse as before.
    func testInternedStringsParseLikeAnyOther() throws {
        for word in ["jsonrpc", "io.modelcontextprotocol/protocolVersion", "tools/call", "2026-07-28"] {
            var bytes = Array(word.utf8)
            XCTAssertEqual(bytes.withUnsafeBytes { InternedStrings.lookup($0) }, word)
            bytes[bytes.count - 1] ^= 0x20
            XCTAssertNil(bytes.withUnsafeBytes { InternedStrings.lookup($0) })
        }
        XCTAssertNil(Array("".utf8).withUnsafeBytes { InternedStrings.lookup($0) })
        let value = try JSONValue.parse(
            #"{"jsonrpc":"2.0","metho\u0064":"tools/lis","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"jsonrpc":"2.0x","name":"n\u00e4me"}"#)
        XCTAssertEqual(value["jsonrpc"], "2.0x")
        XCTAssertEqual(value["method"], "tools/lis")
        XCTAssertEqual(value.at("_meta", "io.modelcontextprotocol/protocolVersion"), "2026-07-28")
        XCTAssertEqual(value["name"], "n\u{E4}me")
        XCTAssertEqual(value.objectValue?.count, 4)
    }
}
