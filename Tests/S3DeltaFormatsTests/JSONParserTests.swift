import XCTest

@testable import S3DeltaFormats

final class JSONParserTests: XCTestCase {
    func testValues() throws {
        let v = try FormatValue.parse(Array(#" {"a":[1,-2.5,1e3,true,false,null],"b":{"c":"x"},"big":9223372036854775807,"bigger":18446744073709551616} "#.utf8))
        XCTAssertEqual(v["a"], .array([.int(1), .double(-2.5), .double(1000), .bool(true), .bool(false), .null]))
        XCTAssertEqual(v["b"]?["c"], .string("x"))
        XCTAssertEqual(v["big"], .int(Int64.max))
        XCTAssertEqual(v["bigger"], .double(18_446_744_073_709_551_616))
    }

    func testStringEscapes() throws {
        let v = try FormatValue.parse(Array(#"["a\"b\\c\/d\n\t", "\u00e9\ud83d\ude00", "plain é"]"#.utf8))
        XCTAssertEqual(v, .array([.string("a\"b\\c/d\n\t"), .string("é😀"), .string("plain é")]))
    }

    func testInvalidDocuments() {
        for text in ["", "{", #"{"a"}"#, "[1,]", "tru", #""abc"#, "1 2", #"{"a":1,}"#, #""\x""#, "-"] {
            XCTAssertThrowsError(try FormatValue.parse(Array(text.utf8)), text)
        }
        XCTAssertThrowsError(try FormatValue.parse(Array(repeating: UInt8(ascii: "["), count: 1000)))
    }
}
