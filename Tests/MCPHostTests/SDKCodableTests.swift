import FoundationEssentials
import XCTest

// The SDK's fast paths for tool arguments (ArgumentDecoder) and structuredContent
// (StructuredEncoder) promise JSONDecoder's / JSONEncoder's exact answer or no answer at all (the
// SDK then falls back to Foundation). These tests hold them to that against Foundation itself.
@testable import MCPPluginSDK

final class SDKCodableTests: XCTestCase {
    private let decoder = JSONDecoder()
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    struct Message: Codable, Equatable { var message: String }
    struct Mixed: Codable, Equatable {
        var a: Int
        var b: [Double]
        var c: [String: Int]?
        var d: Bool?
        var e: [Message]
        var f: UInt8?
        var g: Int64?
    }
    struct Wide: Codable, Equatable { var i128: Int128? }
    enum Kind: String, Codable { case x, y }
    struct Special: Codable, Equatable {
        var kind: Kind
        var date: Date?
        var data: Data?
        var f: Float?
    }

    /// Decodes `json` both ways; where the fast path answers, it must equal Foundation, and so
    /// must the fast encoding of Foundation's value.
    private func check<T: Codable & Equatable>(
        _ type: T.Type, _ json: String, fast expectFast: Bool? = nil, file: StaticString = #filePath, line: UInt = #line
    ) {
        let data = Data(json.utf8)
        let fast = ArgumentDecoder.decode(T.self, from: data)
        let foundation = try? decoder.decode(T.self, from: data)
        if let fast { XCTAssertEqual(fast, foundation, json, file: file, line: line) }
        if let expectFast { XCTAssertEqual(fast != nil, expectFast, "fast path taken for \(json)", file: file, line: line) }
        if let foundation, let encoded = StructuredEncoder.encode(foundation) {
            XCTAssertEqual(
                String(decoding: encoded, as: UTF8.self), String(decoding: try encoder.encode(foundation), as: UTF8.self),
                json, file: file, line: line)
        }
    }

    func testDecodesLikeJSONDecoderOrDeclines() {
        check(Message.self, #"{"message":"hello from wrk"}"#, fast: true)
        check(Message.self, #" { "message" : "a" , "other": [1,2,{"x":null}] } "#, fast: true)
        check(Message.self, #"{"message":"h\u00e9\n\"\\\/ \u0001 é 😀"}"#, fast: true)
        check(Message.self, #"{"message":"\ud83d\ude00"}"#, fast: false)  // surrogates: Foundation's job
        check(Message.self, #"{"message":1}"#, fast: false)
        check(Message.self, #"{"message":null}"#, fast: false)
        check(Message.self, #"{}"#, fast: false)
        check(Message.self, #"{"message":"a","message":"b"}"#, fast: false)
        check(Message.self, #"{"message":"a"} x"#, fast: false)
        check(
            Mixed.self,
            #"{"a":1,"b":[1,2.5,-0,1e3,1E-2,0.1,123456789012345678901234567890],"e":[],"c":{"k":1,"z":-3},"#
                + #""d":true,"f":255,"g":-9223372036854775808}"#, fast: true)
        check(Mixed.self, #"{"a":-0,"b":[],"e":[],"d":null,"c":null}"#, fast: true)
        check(Mixed.self, #"{"a":1,"b":[],"e":[{"message":"x"},{"message":"y"}]}"#, fast: true)
        check(Mixed.self, #"{"a":1.0,"b":[],"e":[]}"#, fast: false)  // JSONDecoder accepts it; left to it
        check(Mixed.self, #"{"a":1e2,"b":[],"e":[]}"#, fast: false)
        check(Mixed.self, #"{"a":99999999999999999999,"b":[],"e":[]}"#, fast: false)
        check(Mixed.self, #"{"a":01,"b":[],"e":[]}"#, fast: false)
        check(Mixed.self, #"{"a":1,"b":[1e400],"e":[]}"#, fast: false)
        check(Mixed.self, #"{"a":1,"b":[1e-400],"e":[]}"#, fast: false)
        check(Mixed.self, #"{"a":1,"b":[],"e":[],"f":256}"#, fast: false)
        check(Mixed.self, #"{"a":1,"b":[],"e":[],"f":-0}"#, fast: false)
        check(Wide.self, #"{"i128":5}"#, fast: false)  // a primitive the fast path does not know
        check(Special.self, #"{"kind":"x"}"#, fast: true)
        check(Special.self, #"{"kind":"q"}"#, fast: false)
        check(Special.self, #"{"kind":"x","date":5}"#, fast: false)
        check(Special.self, #"{"kind":"x","data":"AAE="}"#, fast: false)
        check(Special.self, #"{"kind":"x","f":1.5}"#, fast: false)
        check([String: Int].self, #"{"b":1,"a":2,"A":3,"_":4,"10":5,"9":6}"#, fast: true)
        check([String: Int].self, #"{"é":1,"a":2}"#, fast: true)
        check([Double].self, "[3, 0.1, 1.5, -2, 1e16, 1e-5, 9007199254740993, 5e-324, 1.7976931348623157e308]", fast: true)
        check(String.self, #""top""#, fast: true)
        check(AnyJSON.self, #"{"a":[1,"x",null,true,{"b":2.5}],"c":{}}"#, fast: true)
        check(AnyJSON.self, #"{"a":1.0,"b":-0.0}"#)
    }

    /// AnyJSON probes with `try?`: the fast path must fail exactly where JSONDecoder fails, or
    /// decline the whole decode.
    func testTryProbingTakesTheSameBranches() {
        for json in ["[1, 1.5, 1e2, -0, true, null, \"s\", [], {}]", #"{"k":[{"n":18446744073709551616}]}"#] {
            check(AnyJSON.self, json)
        }
    }

    func testEncodesLikeJSONEncoderOrDeclines() throws {
        var text = ""
        for unit in 0..<0x80 { text.unicodeScalars.append(Unicode.Scalar(UInt8(unit))) }
        text += "é\u{2028}😀/"
        XCTAssertEqual(StructuredEncoder.encode(["s": text]), [UInt8](try encoder.encode(["s": text])))
        XCTAssertEqual(
            StructuredEncoder.encode(Mixed(a: 1, b: [3, -0.0, 1.5], c: ["z": 1, "Z": 2, "_": 3, "10": 4, "9": 5], d: nil, e: [], f: 7, g: nil))
                .map { String(decoding: $0, as: UTF8.self) },
            #"{"a":1,"b":[3,-0,1.5],"c":{"10":4,"9":5,"Z":2,"_":3,"z":1},"e":[],"f":7}"#)
        XCTAssertNil(StructuredEncoder.encode(["é": 1]))  // key order is Foundation's own for non-ASCII
        XCTAssertNil(StructuredEncoder.encode([1e16]))  // exponent formatting likewise
        XCTAssertNil(StructuredEncoder.encode(Special(kind: .x, date: Date(timeIntervalSinceReferenceDate: 0))))
        XCTAssertNil(StructuredEncoder.encode(Wide(i128: 5)))
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            let decimal = Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) / 100
            for value in [value, decimal] where value.isFinite {
                if let fast = StructuredEncoder.encode([value]) { XCTAssertEqual(fast, [UInt8](try encoder.encode([value])), "\(value)") }
            }
        }
    }

    /// The public API on top: same values, same error messages.
    func testToolArgumentsAndResultsUseTheFastPathsTransparently() throws {
        let arguments = ToolArguments(json: Data(#"{"message":"hi"}"#.utf8))
        XCTAssertEqual(try arguments.decode(Message.self), Message(message: "hi"))
        XCTAssertThrowsError(try ToolArguments(json: Data(#"{"message":3}"#.utf8)).decode(Message.self)) { error in
            XCTAssertEqual("\(error)", "argument 'message': expected to decode String but found number instead")
        }
        guard case .structured(let json, let text) = ToolResult.structured(Message(message: "hi"), text: "t").storage else {
            return XCTFail("not structured")
        }
        XCTAssertEqual(String(decoding: json, as: UTF8.self), #"{"message":"hi"}"#)
        XCTAssertEqual(text, "t")
    }
}
