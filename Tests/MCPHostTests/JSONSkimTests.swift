import XCTest

@testable import MCPJSON

/// `JSONSkim` may only say yes where `JSONValue.parse` agrees, with the same members.
final class JSONSkimTests: XCTestCase {
    /// The members the skim reports, keys decoded and values parsed; nil when it declined.
    private func skimmed(_ text: String) -> [(String, JSONValue)]? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw -> [(String, JSONValue)]? in
            var members: [(String, JSONValue)] = []
            let ok = JSONSkim.forEachMember(raw, in: 0..<raw.count) { key, value in
                let decodedKey = try! JSONValue.parse(Array("\"".utf8) + Array(key) + Array("\"".utf8)).stringValue!
                members.append((decodedKey, try! JSONValue.parse(buffer: UnsafeRawBufferPointer(rebasing: raw[value]))))
                return true
            }
            return ok ? members : nil
        }
    }

    func testSkimsThePlainSubset() throws {
        let text = #" { "content" : [ {"type":"text","text":"a \"quoted\" line\nand a \\ / \t tab"} ], "n": -12.50, "z": 0, "t": true, "f": false, "x": null, "o": {"a":[[],{}]} } "#
        let members = try XCTUnwrap(skimmed(text))
        XCTAssertEqual(members.map(\.0), ["content", "n", "z", "t", "f", "x", "o"])
        let parsed = try JSONValue.parse(text)
        for (key, value) in members { XCTAssertEqual(parsed[key], value, key) }
        XCTAssertEqual(skimmed("{}")?.count, 0)
        XCTAssertEqual(skimmed(#"{"a":1,"a":2}"#)?.map(\.0), ["a", "a"])  // duplicates are the caller's to judge
    }

    /// Outside the subset, or malformed: declined, so the parser gives the verdict and the message.
    func testDeclinesEverythingElse() {
        for text in [
            #"{"a":"\u00e9"}"#, "{\"a\":\"\u{E9}\"}", #"{"a":1e3}"#, #"{"a":1E-2}"#, #"{"a":"\x"}"#, "{\"a\":\"\u{1}\"}",
            #"{"a":01}"#, #"{"a":-}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{"a" 1}"#, #"{"a":1,}"#,
            #"{,}"#, #"{"a":[1,]}"#, #"{"a":[1 2]}"#, #"{"a":1}x"#, #"{"a":1} {}"#, #"[1]"#, #""s""#, "", " ", "{",
            #"{"a":"unterminated}"#, #"{"a":1"#, "{\"" + String(repeating: "x", count: 10) + "\":" + String(repeating: "[", count: 40)
                + String(repeating: "]", count: 40) + "}",
            #"{"a":"# + String(repeating: "9", count: 301) + "}",
        ] {
            XCTAssertNil(skimmed(text), text)
        }
    }

    /// Random documents and random damage: whenever the skim says yes, the parser does too, and the
    /// members agree.
    func testNeverDisagreesWithTheParser() throws {
        var generator = SystemRandomNumberGenerator()
        let pieces = [
            #"{"a":1}"#, #"{"content":[{"type":"text","text":"hi\n"}],"isError":false}"#, #"[1,2.5,-0,"x",null]"#,
            #"{"k":{"k":{"k":[true,false]}}}"#, #""\"\\\/\b\f\n\r\t""#, "12345678901234567890", "-0.000001",
        ]
        let alphabet = Array("{}[]\",:.-0123456789tfnrulase\\/ \n".utf8) + [0x00, 0xC3, 0xA9, 0x80]
        for _ in 0..<3_000 {
            var bytes = Array("{\"p\":\(pieces.randomElement(using: &generator)!),\"q\":\(pieces.randomElement(using: &generator)!)}".utf8)
            for _ in 0..<Int.random(in: 0...3, using: &generator) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[at] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard Array(text.utf8) == bytes, let members = skimmed(text) else { continue }
            let parsed = try JSONValue.parse(bytes)
            let object = try XCTUnwrap(parsed.objectValue, text)
            var lastWins: [String: JSONValue] = [:]
            for (key, value) in members { lastWins[key] = value }
            XCTAssertEqual(object.count, lastWins.count, text)
            for (key, value) in lastWins { XCTAssertEqual(object[key], value, text) }
        }
    }
}
