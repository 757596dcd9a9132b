import Foundation
import MCPPluginSDK
import XCTest

/// The SDK's byte-level JSON parser (what plugins parse upstream answers with), checked against
/// Foundation's JSONSerialization on the same documents and on malformed input.
final class AnyJSONParserTests: XCTestCase {
    func testAgreesWithJSONDecoderOnValidDocuments() throws {
        let documents = [
            #"{"a":[1,-2.5,3e2,true,false,null],"b":{"c":"d"},"e":""}"#,
            #"["\"\\\/\b\f\n\r\t", "\u00e9\u4e2d\ud83d\ude00", "plain é 中"]"#,
            #"  [ ]  "#, #"{}"#, #"-0.0"#, #"1E-3"#, #""x""#,
        ]
        for text in documents {
            let parsed = try AnyJSON.parse(Array(text.utf8))
            let reference = try JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8))
            XCTAssertEqual(parsed, reference, text)
        }
    }

    func testLoneSurrogateAndInvalidUTF8BecomeReplacementCharacters() throws {
        XCTAssertEqual(try AnyJSON.parse(Array(#"["\ud800x"]"#.utf8)), .array([.string("\u{FFFD}x")]))
        XCTAssertEqual(try AnyJSON.parse([0x22, 0x61, 0xFF, 0x22]), .string("a\u{FFFD}"))
    }

    func testMalformedInputIsAnErrorWithItsOffset() {
        for (text, offset) in [("[1,]", 3), ("{\"a\" 1}", 5), ("[1] x", 4), ("\"open", 0), ("tru", 0), ("", 0), ("[\"\\q\"]", 3)] {
            XCTAssertThrowsError(try AnyJSON.parse(Array(text.utf8)), text) { error in
                XCTAssertEqual((error as? JSONSyntaxError)?.offset, offset, "\(text): \(error)")
            }
        }
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        XCTAssertThrowsError(try AnyJSON.parse(Array(deep.utf8)))
    }
}
