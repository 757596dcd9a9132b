import Foundation
import XCTest

@testable import MCPJSON

final class JSONSchemaTests: XCTestCase {

    // MARK: Helpers

    private func schema(_ text: String, checkFormats: Bool = true, file: StaticString = #filePath, line: UInt = #line)
        throws -> CompiledSchema
    {
        do { return try CompiledSchema(try JSONValue.parse(text), checkFormats: checkFormats) } catch {
            XCTFail("schema did not compile: \(error)", file: file, line: line)
            throw error
        }
    }

    private func assertValid(
        _ schema: CompiledSchema, _ instances: String..., file: StaticString = #filePath, line: UInt = #line
    ) throws {
        for text in instances {
            let value = try JSONValue.parse(text)
            let violations = schema.validate(value)
            XCTAssertEqual(violations, [], "\(text) should be valid", file: file, line: line)
            XCTAssertTrue(schema.isValid(value), "\(text): isValid disagrees", file: file, line: line)
        }
    }

    /// Asserts `text` is invalid and returns its violations; checks the first message when given.
    @discardableResult
    private func assertInvalid(
        _ schema: CompiledSchema, _ text: String, _ message: String? = nil, keyword: String? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> [JSONSchemaViolation] {
        let value = try JSONValue.parse(text)
        let violations = schema.validate(value)
        XCTAssertFalse(violations.isEmpty, "\(text) should be invalid", file: file, line: line)
        XCTAssertFalse(schema.isValid(value), "\(text): isValid disagrees", file: file, line: line)
        if let message { XCTAssertEqual(violations.firstMessage, message, "for \(text)", file: file, line: line) }
        if let keyword { XCTAssertEqual(violations.first?.keyword, keyword, "for \(text)", file: file, line: line) }
        return violations
    }

    private func assertAllInvalid(_ schema: CompiledSchema, _ instances: String..., file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        for text in instances { try assertInvalid(schema, text, file: file, line: line) }
    }

    /// Asserts compiling `text` throws a JSONSchemaCompileError whose description contains `fragment`.
    private func assertCompileError(
        _ text: String, _ fragment: String, path: String? = nil, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let value = try JSONValue.parse(text)
        XCTAssertThrowsError(try CompiledSchema(value), "\(text) compiled", file: file, line: line) { error in
            guard let error = error as? JSONSchemaCompileError else {
                return XCTFail("wrong error type \(type(of: error))", file: file, line: line)
            }
            XCTAssertTrue(
                error.description.contains(fragment), "\(error.description) lacks \(fragment.debugDescription)", file: file,
                line: line)
            if let path { XCTAssertEqual(error.schemaPath, path, file: file, line: line) }
        }
    }

    // MARK: The MCP tool case

    private let echoSchema = #"""
        {"type":"object","properties":{"message":{"type":"string"}},"required":["message"],"additionalProperties":false}
        """#

    func testToolArguments() throws {
        let s = try schema(echoSchema)
        try assertValid(s, #"{"message":"hello"}"#, #"{"message":""}"#)
        try assertInvalid(s, "{}", "missing required property 'message'", keyword: "required")
        try assertInvalid(s, #"{"message":5}"#, "/message: expected string, got integer", keyword: "type")
        try assertInvalid(s, #"{"message":"hi","extra":1}"#, "unexpected property 'extra'", keyword: "additionalProperties")
        try assertInvalid(s, #"[]"#, "expected object, got array")
        let both = try assertInvalid(s, #"{"message":null,"x":true}"#)
        XCTAssertEqual(both.map(\.message), ["/message: expected string, got null", "unexpected property 'x'"])
        XCTAssertEqual(both.map(\.instancePath), ["/message", ""])
        XCTAssertEqual(both.map(\.schemaPath), ["/properties/message/type", "/additionalProperties"])
        // A misspelt field: the missing one is reported first.
        let typo = try assertInvalid(s, #"{"mesage":"hi"}"#)
        XCTAssertEqual(typo.map(\.message), ["missing required property 'message'", "unexpected property 'mesage'"])
    }

    // MARK: type

    func testType() throws {
        let cases: [(String, [String], [String])] = [
            ("null", ["null"], ["0", "false", "\"\"", "{}"]),
            ("boolean", ["true", "false"], ["0", "null", "\"true\""]),
            ("integer", ["3", "3.0", "-7", "0", "1e3", "9223372036854775807", "1e30"], ["3.5", "\"3\"", "null", "[]"]),
            ("number", ["3", "3.5", "-0.25", "1e300"], ["\"3\"", "true", "null"]),
            ("string", ["\"\"", "\"x\""], ["1", "null", "[]"]),
            ("array", ["[]", "[1,\"a\"]"], ["{}", "\"[]\""]),
            ("object", ["{}", #"{"a":1}"#], ["[]", "null"]),
        ]
        for (type, good, bad) in cases {
            let s = try schema(#"{"type":"\#(type)"}"#)
            for text in good { try assertValid(s, text) }
            for text in bad { try assertInvalid(s, text, keyword: "type") }
        }
        let s = try schema(#"{"properties":{"a":{"type":"number"}}}"#)
        try assertInvalid(s, #"{"a":"x"}"#, "/a: expected number, got string")
        try assertInvalid(try schema(#"{"type":"integer"}"#), "3.5", "expected integer, got number")
    }

    func testTypeArray() throws {
        let s = try schema(#"{"type":["string","null"]}"#)
        try assertValid(s, "\"a\"", "null")
        try assertInvalid(s, "1", "expected string or null, got integer")
        let three = try schema(#"{"type":["string","number","null"]}"#)
        try assertInvalid(three, "{}", "expected string, number or null, got object")
        try assertValid(try schema(#"{"type":["integer","boolean"]}"#), "1", "2.0", "true")
    }

    // MARK: enum / const

    func testEnum() throws {
        let s = try schema(#"{"enum":["red","green",3,null,{"a":[1]}]}"#)
        try assertValid(s, "\"red\"", "3", "3.0", "null", #"{"a":[1.0]}"#)
        try assertInvalid(s, "\"blue\"", #"must be one of "red", "green", 3, null, {"a":[1]}, got "blue""#, keyword: "enum")
        try assertAllInvalid(s, "\"Red\"", "4", "false", #"{"a":[1],"b":2}"#, "[]")
        let nested = try schema(#"{"properties":{"color":{"enum":["red"]}}}"#)
        try assertInvalid(nested, #"{"color":"purple"}"#, #"/color: must be one of "red", got "purple""#)
    }

    func testEnumMessageIsBounded() throws {
        let options = (0..<50).map { "\"option\($0)\"" }.joined(separator: ",")
        let s = try schema(#"{"enum":[\#(options)]}"#)
        let message = try assertInvalid(s, "\"nope\"").firstMessage ?? ""
        XCTAssertTrue(message.contains("… (50 values)"), message)
        XCTAssertLessThan(message.count, 300)
        let long = try assertInvalid(s, "\"\(String(repeating: "x", count: 500))\"").firstMessage ?? ""
        XCTAssertLessThan(long.count, 400)
    }

    func testMessagesQuoteBigValuesBriefly() throws {
        let s = try schema(#"{"properties":{"a":{"const":1},"b":{"pattern":"^x"},"c":{"const":"é"}}}"#)
        let huge = String(repeating: "é", count: 1_000_000)
        let big: JSONValue = ["a": .array((0..<100_000).map { .int(Int64($0)) }), "b": .string(huge), "c": .string(huge)]
        let messages = s.validate(big).map(\.message)
        XCTAssertEqual(messages.count, 3)
        XCTAssertEqual(messages[0], "/a: must be 1, got [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,…")
        XCTAssertTrue(messages[1].hasPrefix(#"/b: "éééé"#), messages[1])
        XCTAssertTrue(messages[1].hasSuffix(#"é… does not match the pattern "^x""#), messages[1])
        XCTAssertLessThan(messages[1].utf8.count, 120)
        XCTAssertLessThan(messages[2].utf8.count, 120)
        XCTAssertEqual(brief(["k": "v", "n": [1, 2]]), #"{"k":"v","n":[1,2]}"#)
        XCTAssertEqual(brief("a\"b"), #""a\"b""#)
    }

    func testConst() throws {
        let s = try schema(#"{"const":{"a":1,"b":[true,null]}}"#)
        try assertValid(s, #"{"b":[true,null],"a":1.0}"#)
        try assertInvalid(s, #"{"a":1}"#, keyword: "const")
        try assertInvalid(s, #"{"a":1,"b":[true,null],"c":0}"#)
        let five = try schema(#"{"properties":{"n":{"const":5}}}"#)
        try assertValid(five, #"{"n":5}"#, #"{"n":5.0}"#, "{}")
        try assertInvalid(five, #"{"n":6}"#, "/n: must be 5, got 6")
        try assertValid(try schema(#"{"const":null}"#), "null")
        try assertInvalid(try schema(#"{"const":null}"#), "0")
        try assertInvalid(try schema(#"{"const":false}"#), "0")
    }

    // MARK: Objects

    func testPropertyNamesCompareByCodePoint() throws {
        // Swift's String == treats canonically equivalent strings as equal; JSON Schema does not.
        let s = try schema(#"{"properties":{"\u00e9":{"type":"string"},"K":{}},"required":["K"],"additionalProperties":false}"#)
        try assertValid(s, #"{"\u00e9":"x","K":1}"#)
        try assertInvalid(s, #"{"e\u0301":"x","K":1}"#, "unexpected property 'e\u{301}'")
        let kelvin = try assertInvalid(s, #"{"\u212a":1}"#)
        XCTAssertEqual(kelvin.map(\.message), ["missing required property 'K'", "unexpected property '\u{212A}'"])
        let many = (0..<12).map { #""p\#($0)":{}"# }.joined(separator: ",")
        let big = try schema(#"{"properties":{\#(many),"\u00e9":{"type":"string"}},"additionalProperties":false}"#)
        try assertValid(big, #"{"\u00e9":"x"}"#)
        try assertInvalid(big, #"{"e\u0301":"x"}"#, keyword: "additionalProperties")
        let dependent = try schema(#"{"dependentRequired":{"K":["b"]}}"#)
        try assertValid(dependent, #"{"\u212a":1}"#)
    }

    func testPropertiesOnlyApplyWhenPresentAndToObjects() throws {
        let s = try schema(#"{"properties":{"a":{"type":"integer"},"b":{"type":"string"}}}"#)
        try assertValid(s, "{}", #"{"a":1}"#, #"{"c":"anything"}"#, "5", "\"str\"", "[1]")
        try assertInvalid(s, #"{"a":1,"b":2}"#, "/b: expected string, got integer")
    }

    func testNestedPaths() throws {
        let s = try schema(
            #"""
            {"type":"object","properties":{"items":{"type":"array","items":{"type":"object",
             "properties":{"name":{"type":"string"}},"required":["name"]}}}}
            """#)
        try assertValid(s, #"{"items":[{"name":"a"},{"name":"b"}]}"#)
        let violations = try assertInvalid(s, #"{"items":[{"name":"a"},{"name":"b"},{"name":7},{}]}"#)
        XCTAssertEqual(
            violations.map(\.message), ["/items/2/name: expected string, got integer", "/items/3: missing required property 'name'"])
    }

    func testPathEscaping() throws {
        let s = try schema(#"{"properties":{"a/b":{"type":"string"},"c~d":{"type":"string"},"":{"type":"string"}}}"#)
        let violations = try assertInvalid(s, #"{"a/b":1,"c~d":2,"":3}"#)
        XCTAssertEqual(violations.map(\.instancePath), ["/a~1b", "/c~0d", "/"])
        XCTAssertEqual(violations.map(\.schemaPath), ["/properties/a~1b/type", "/properties/c~0d/type", "/properties//type"])
    }

    func testRequired() throws {
        let s = try schema(#"{"required":["a","b"]}"#)
        try assertValid(s, #"{"a":null,"b":0}"#, "[]", "\"not an object\"")
        let violations = try assertInvalid(s, #"{"c":1}"#)
        XCTAssertEqual(violations.map(\.message), ["missing required property 'a'", "missing required property 'b'"])
        let nested = try schema(#"{"properties":{"user":{"required":["name"]}}}"#)
        try assertInvalid(nested, #"{"user":{}}"#, "/user: missing required property 'name'")
        // Draft-03 boolean form is tolerated (and ignored).
        try assertValid(try schema(#"{"properties":{"a":{"type":"string","required":true}}}"#), "{}")
    }

    func testAdditionalPropertiesSchema() throws {
        let s = try schema(#"{"properties":{"a":{}},"additionalProperties":{"type":"integer"}}"#)
        try assertValid(s, #"{"a":"x","b":1,"c":2}"#)
        try assertInvalid(s, #"{"a":"x","b":"y"}"#, "/b: expected integer, got string")
        try assertValid(try schema(#"{"additionalProperties":true}"#), #"{"x":1}"#)
        try assertValid(try schema(#"{"additionalProperties":{}}"#), #"{"x":1}"#)
        let none = try schema(#"{"additionalProperties":false}"#)
        try assertValid(none, "{}", "[1]")
        try assertInvalid(none, #"{"x":1}"#, "unexpected property 'x'")
    }

    func testPatternProperties() throws {
        let s = try schema(
            #"{"properties":{"id":{"type":"string"}},"patternProperties":{"^x-":{"type":"integer"},"num$":{"type":"number"}},"additionalProperties":false}"#
        )
        try assertValid(s, #"{"id":"a","x-one":1,"x-two":2,"num":1.5,"anum":2}"#)
        try assertInvalid(s, #"{"x-one":"1"}"#, "/x-one: expected integer, got string")
        try assertInvalid(s, #"{"y-one":1}"#, "unexpected property 'y-one'")
        // A key matched by both properties and a pattern must satisfy both.
        let both = try schema(#"{"properties":{"x-a":{"minimum":5}},"patternProperties":{"^x-":{"type":"integer"}}}"#)
        try assertValid(both, #"{"x-a":6}"#)
        try assertAllInvalid(both, #"{"x-a":6.5}"#, #"{"x-a":4}"#)
    }

    func testPropertyNames() throws {
        let s = try schema(#"{"propertyNames":{"pattern":"^[a-z]+$","maxLength":5}}"#)
        try assertValid(s, "{}", #"{"abc":1,"hello":2}"#, "[]")
        try assertInvalid(
            s, #"{"abc":1,"Bad":2}"#, #"property name 'Bad' is invalid: "Bad" does not match the pattern "^[a-z]+$""#,
            keyword: "propertyNames")
        try assertInvalid(s, #"{"toolong":1}"#, "property name 'toolong' is invalid: must be at most 5 characters long, got 7")
        try assertInvalid(try schema(#"{"propertyNames":false}"#), #"{"a":1}"#)
        try assertValid(try schema(#"{"propertyNames":false}"#), "{}")
    }

    func testMinMaxProperties() throws {
        let s = try schema(#"{"minProperties":1,"maxProperties":2}"#)
        try assertValid(s, #"{"a":1}"#, #"{"a":1,"b":2}"#, "[]")
        try assertInvalid(s, "{}", "must have at least 1 property, got 0", keyword: "minProperties")
        try assertInvalid(s, #"{"a":1,"b":2,"c":3}"#, "must have at most 2 properties, got 3", keyword: "maxProperties")
    }

    func testManyPropertiesUseTheLookupTable() throws {
        let properties = (0..<30).map { #""p\#($0)":{"type":"integer","minimum":\#($0)}"# }.joined(separator: ",")
        let s = try schema(#"{"properties":{\#(properties)},"additionalProperties":false}"#)
        try assertValid(s, #"{"p0":0,"p29":29,"p15":100}"#)
        try assertInvalid(s, #"{"p20":19}"#, "/p20: 19 is less than the minimum 20")
        try assertInvalid(s, #"{"p30":1}"#, "unexpected property 'p30'")
    }

    func testDependentRequiredAndSchemas() throws {
        let s = try schema(
            #"{"dependentRequired":{"card":["cvv","expiry"]},"dependentSchemas":{"gift":{"required":["to"]}}}"#)
        try assertValid(s, "{}", #"{"cvv":1}"#, #"{"card":1,"cvv":2,"expiry":3}"#, #"{"gift":1,"to":"x"}"#)
        try assertInvalid(s, #"{"card":1,"cvv":2}"#, "missing property 'expiry', required when 'card' is present")
        try assertInvalid(s, #"{"gift":true}"#, "missing required property 'to'")
        // Draft-07 `dependencies`, both forms.
        let old = try schema(#"{"dependencies":{"a":["b"],"c":{"properties":{"d":{"type":"string"}}}}}"#)
        try assertValid(old, #"{"a":1,"b":2}"#, #"{"c":1,"d":"x"}"#, #"{"d":1}"#)
        try assertInvalid(old, #"{"a":1}"#, keyword: "dependentRequired")
        try assertInvalid(old, #"{"c":1,"d":1}"#, "/d: expected string, got integer")
    }

    // MARK: Arrays

    func testItems() throws {
        let s = try schema(#"{"items":{"type":"integer"}}"#)
        try assertValid(s, "[]", "[1,2,3]", "{}", "\"x\"")
        try assertInvalid(s, "[1,\"2\",3]", "/1: expected integer, got string")
        let violations = try assertInvalid(s, "[\"a\",1,\"b\"]")
        XCTAssertEqual(violations.map(\.instancePath), ["/0", "/2"])
    }

    func testPrefixItems() throws {
        let s = try schema(#"{"prefixItems":[{"type":"string"},{"type":"integer"}]}"#)
        try assertValid(s, "[]", "[\"a\"]", "[\"a\",1]", "[\"a\",1,null,{}]")
        try assertInvalid(s, "[1]", "/0: expected string, got integer")
        let closed = try schema(#"{"prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}"#)
        try assertValid(closed, "[\"a\",1]", "[\"a\"]")
        try assertInvalid(closed, "[\"a\",1,2]", "must have at most 2 items, got 3", keyword: "items")
        let rest = try schema(#"{"prefixItems":[{"type":"string"}],"items":{"type":"boolean"}}"#)
        try assertValid(rest, "[\"a\",true,false]")
        try assertInvalid(rest, "[\"a\",true,0]", "/2: expected boolean, got integer")
        try assertInvalid(try schema(#"{"items":false}"#), "[1]", "must be an empty array, got 1 item")
        try assertValid(try schema(#"{"items":false}"#), "[]")
    }

    func testDraft07TupleItems() throws {
        let s = try schema(#"{"items":[{"type":"string"},{"type":"integer"}]}"#)
        try assertValid(s, "[\"a\",1]", "[\"a\",1,\"extra\"]", "[]")
        try assertInvalid(s, "[\"a\",\"b\"]", "/1: expected integer, got string")
        let closed = try schema(#"{"items":[{"type":"string"}],"additionalItems":false}"#)
        try assertValid(closed, "[\"a\"]")
        try assertInvalid(closed, "[\"a\",1]", "must have at most 1 item, got 2", keyword: "additionalItems")
        let typed = try schema(#"{"items":[{}],"additionalItems":{"type":"integer"}}"#)
        try assertValid(typed, "[\"a\",1,2]")
        try assertInvalid(typed, "[\"a\",1,\"b\"]", "/2: expected integer, got string")
        // additionalItems without array-form items does nothing.
        try assertValid(try schema(#"{"items":{},"additionalItems":false}"#), "[1,2]")
        try assertValid(try schema(#"{"additionalItems":false}"#), "[1,2]")
    }

    func testMinMaxItems() throws {
        let s = try schema(#"{"minItems":1,"maxItems":3}"#)
        try assertValid(s, "[1]", "[1,2,3]", "{}")
        try assertInvalid(s, "[]", "must have at least 1 item, got 0", keyword: "minItems")
        try assertInvalid(s, "[1,2,3,4]", "must have at most 3 items, got 4", keyword: "maxItems")
    }

    func testUniqueItems() throws {
        let s = try schema(#"{"uniqueItems":true}"#)
        try assertValid(s, "[]", "[1,2,3]", "[1,\"1\",true,null]", #"[{"a":1},{"a":2}]"#, "[[1],[1,1]]", "[0,false]")
        try assertInvalid(s, "[1,2,1]", "must not contain duplicates: items 0 and 2 are equal", keyword: "uniqueItems")
        try assertAllInvalid(s, "[1,1.0]", #"[{"a":1,"b":2},{"b":2,"a":1}]"#, "[[1,2],[1,2]]", "[null,null]")
        try assertValid(try schema(#"{"uniqueItems":false}"#), "[1,1]")
        // Large arrays go through the hashed path.
        let distinct = (0..<500).map { #"{"n":\#($0),"s":"\#($0)"}"# }.joined(separator: ",")
        try assertValid(s, "[\(distinct)]")
        try assertInvalid(s, #"[\#(distinct),{"s":"7","n":7.0}]"#, "must not contain duplicates: items 7 and 500 are equal")
        let numbers = (0..<1000).map(String.init).joined(separator: ",")
        try assertValid(s, "[\(numbers)]")
        try assertInvalid(s, "[\(numbers),999.0]")
    }

    func testContains() throws {
        let s = try schema(#"{"contains":{"type":"string"}}"#)
        try assertValid(s, "[1,\"a\"]", "[\"a\"]", "{}")
        try assertInvalid(
            s, "[1,2]", "must contain at least 1 item matching the 'contains' schema, found 0", keyword: "contains")
        try assertInvalid(s, "[]")
        let bounded = try schema(#"{"contains":{"type":"string"},"minContains":2,"maxContains":3}"#)
        try assertValid(bounded, #"["a","b"]"#, #"["a",1,"b","c"]"#)
        try assertInvalid(bounded, #"["a",1]"#, keyword: "minContains")
        try assertInvalid(bounded, #"["a","b","c","d"]"#, keyword: "maxContains")
        try assertValid(try schema(#"{"contains":{"type":"string"},"minContains":0}"#), "[]", "[1]")
    }

    // MARK: Numbers

    func testMinimumMaximum() throws {
        let s = try schema(#"{"properties":{"to":{"minimum":0,"maximum":100}}}"#)
        try assertValid(s, #"{"to":0}"#, #"{"to":100}"#, #"{"to":50.5}"#, #"{"to":"string is fine"}"#)
        try assertInvalid(s, #"{"to":101}"#, "/to: 101 is greater than the maximum 100", keyword: "maximum")
        try assertInvalid(s, #"{"to":-1}"#, "/to: -1 is less than the minimum 0", keyword: "minimum")
        try assertInvalid(s, #"{"to":100.5}"#, "/to: 100.5 is greater than the maximum 100")
        let fractional = try schema(#"{"minimum":1.5,"maximum":2.5}"#)
        try assertValid(fractional, "2", "1.5", "2.5")
        try assertAllInvalid(fractional, "1", "3", "1.49")
    }

    func testExclusiveBounds() throws {
        let s = try schema(#"{"exclusiveMinimum":0,"exclusiveMaximum":10}"#)
        try assertValid(s, "0.001", "5", "9.999")
        try assertInvalid(s, "0", "0 must be greater than 0 (exclusiveMinimum)", keyword: "exclusiveMinimum")
        try assertInvalid(s, "10", "10 must be less than 10 (exclusiveMaximum)", keyword: "exclusiveMaximum")
        // Draft-04 boolean forms modify minimum/maximum.
        let draft4 = try schema(#"{"minimum":0,"exclusiveMinimum":true,"maximum":10,"exclusiveMaximum":true}"#)
        try assertValid(draft4, "1", "9.5")
        try assertInvalid(draft4, "0", keyword: "exclusiveMinimum")
        try assertInvalid(draft4, "10", keyword: "exclusiveMaximum")
        let inclusive4 = try schema(#"{"minimum":0,"exclusiveMinimum":false,"maximum":10,"exclusiveMaximum":false}"#)
        try assertValid(inclusive4, "0", "10")
        // Both number forms together: the stricter one wins.
        try assertInvalid(try schema(#"{"minimum":5,"exclusiveMinimum":5}"#), "5")
    }

    func testBigIntegerComparisonsAreExact() throws {
        let s = try schema(#"{"maximum":9007199254740992}"#)
        try assertValid(s, "9007199254740992")
        try assertInvalid(s, "9007199254740993")  // equal as doubles, not as integers
        let big = try schema(#"{"minimum":9223372036854775807}"#)
        try assertValid(big, "9223372036854775807", "1e19")
        try assertInvalid(big, "9223372036854775806")
        let fractionalLimit = try schema(#"{"maximum":2.5}"#)
        try assertValid(fractionalLimit, "2", "-9223372036854775808")
        try assertInvalid(fractionalLimit, "3")
        try assertInvalid(try schema(#"{"maximum":-1e30}"#), "-9223372036854775808")
        try assertValid(try schema(#"{"minimum":-1e30}"#), "-9223372036854775808")
    }

    func testMultipleOf() throws {
        let ints = try schema(#"{"multipleOf":5}"#)
        try assertValid(ints, "0", "10", "-15", "20.0", "\"x\"")
        try assertInvalid(ints, "7", "7 is not a multiple of 5", keyword: "multipleOf")
        try assertInvalid(ints, "7.5")
        let decimals = try schema(#"{"multipleOf":0.01}"#)
        try assertValid(decimals, "19.99", "0.07", "1", "1234.56")
        try assertInvalid(decimals, "0.001")
        try assertValid(try schema(#"{"multipleOf":0.0001}"#), "0.0075")
        try assertValid(try schema(#"{"multipleOf":0.1}"#), "0.3")
        try assertInvalid(try schema(#"{"multipleOf":0.123456789}"#), "1e308")  // quotient overflows
        try assertValid(try schema(#"{"multipleOf":1.5}"#), "4.5", "3")
        try assertValid(try schema(#"{"type":"integer","multipleOf":0.5}"#), "3")
        try assertInvalid(try schema(#"{"multipleOf":3}"#), "-9223372036854775808")
        try assertValid(try schema(#"{"multipleOf":2}"#), "-9223372036854775808")
    }

    // MARK: Strings

    func testMinMaxLengthCountCodePoints() throws {
        let s = try schema(#"{"minLength":2,"maxLength":3}"#)
        try assertValid(s, "\"ab\"", "\"abc\"", "\"😀😀\"", "\"éé\"", "\"日本語\"", "5")
        try assertInvalid(s, "\"a\"", "must be at least 2 characters long, got 1", keyword: "minLength")
        try assertInvalid(s, "\"abcd\"", "must be at most 3 characters long, got 4", keyword: "maxLength")
        try assertInvalid(s, "\"😀\"", "must be at least 2 characters long, got 1")
        try assertInvalid(s, "\"😀😀😀😀\"", "must be at most 3 characters long, got 4")
        // "e" + combining accent is two code points (JSON Schema counts code points, not graphemes).
        try assertValid(try schema(#"{"minLength":2}"#), #""e\u0301""#)
        try assertInvalid(try schema(#"{"maxLength":1}"#), #""e\u0301""#)
        try assertInvalid(try schema(#"{"maxLength":0}"#), "\"a\"", "must be at most 0 characters long, got 1")
        let named = try schema(#"{"properties":{"name":{"maxLength":3}}}"#)
        try assertInvalid(named, #"{"name":"abcdef"}"#, "/name: must be at most 3 characters long, got 6")
        try assertInvalid(try schema(#"{"minLength":1}"#), "\"\"", "must be at least 1 character long, got 0")
    }

    func testPattern() throws {
        let s = try schema(#"{"pattern":"[0-9]{3}"}"#)
        try assertValid(s, "\"abc123def\"", "\"123\"", "42")  // unanchored search; non-strings ignored
        try assertInvalid(s, "\"12a\"", #""12a" does not match the pattern "[0-9]{3}""#, keyword: "pattern")
        let anchored = try schema(#"{"properties":{"code":{"pattern":"^[A-Z]{2}-\\d+$"}}}"#)
        try assertValid(anchored, #"{"code":"AB-123"}"#)
        try assertInvalid(anchored, #"{"code":"AB-123x"}"#, #"/code: "AB-123x" does not match the pattern "^[A-Z]{2}-\\d+$""#)
        try assertInvalid(anchored, #"{"code":"xAB-1"}"#)
        // \d is ASCII-only, as in ECMAScript.
        try assertInvalid(try schema(#"{"pattern":"^\\d+$"}"#), "\"١٢٣\"")
        try assertValid(try schema(#"{"pattern":"^[\\d.]+$"}"#), "\"1.5\"")
        try assertInvalid(try schema(#"{"pattern":"^[\\d.]+$"}"#), "\"1,5\"")
        try assertValid(try schema(#"{"pattern":"^\\D$"}"#), "\"a\"")
        // A '[' inside a class is a literal in ECMAScript.
        try assertValid(try schema(#"{"pattern":"^[[a]+$"}"#), "\"[a[\"")
        // Non-ASCII and unicode properties.
        try assertValid(try schema(#"{"pattern":"^\\p{L}+$"}"#), "\"héllo日本\"")
        try assertValid(try schema(#"{"pattern":"^.$"}"#), "\"😀\"")
        try assertValid(try schema(#"{"pattern":"😀"}"#), "\"a😀b\"")
    }

    func testFormats() throws {
        let dateTime = try schema(#"{"format":"date-time"}"#)
        try assertValid(
            dateTime, #""2024-02-29T12:30:00Z""#, #""2023-01-01T00:00:00.123+05:30""#, #""2023-12-31t23:59:60z""#,
            #""2023-06-01 08:00:00-07:00""#, "42")
        try assertInvalid(dateTime, #""yesterday""#, #""yesterday" is not a valid date-time"#, keyword: "format")
        try assertAllInvalid(
            dateTime, #""2023-02-29T12:00:00Z""#, #""2023-13-01T00:00:00Z""#, #""2023-01-01T24:00:00Z""#,
            #""2023-01-01T12:00:00""#, #""2023-01-01""#, #""2023-01-01T12:00Z""#, #""2023-01-01T12:00:00+5:30""#,
            #""2023-01-01T12:00:00.Z""#)
        // Leap seconds only at 23:59:60 UTC.
        try assertValid(dateTime, #""1998-12-31T23:59:60Z""#, #""1998-12-31T15:59:60-08:00""#)
        try assertAllInvalid(dateTime, #""1998-12-31T23:58:60Z""#, #""1998-12-31T22:59:60Z""#)
        let date = try schema(#"{"format":"date"}"#)
        try assertValid(date, #""2000-02-29""#, #""1999-12-31""#)
        try assertAllInvalid(date, #""1900-02-29""#, #""2023-04-31""#, #""2023-1-01""#, #""20230101""#, #""2023-01-00""#)
        let email = try schema(#"{"format":"email"}"#)
        try assertValid(
            email, #""a@b.co""#, #""first.last+tag@example.org""#, #""x@localhost""#, #""\"joe bloggs\"@example.com""#,
            #""joe@[127.0.0.1]""#, #""joe@[IPv6:::1]""#, #""jöe@bücher.de""#)
        try assertAllInvalid(
            email, #""plain""#, #""@b.co""#, #""a@""#, #""a b@c.d""#, #""a@b..c""#, #""a@.b""#, #"".a@b.c""#, #""a.@b.c""#,
            #""a..b@c.d""#, #""a@b_c.d""#, #""a@-b.c""#, #""a@[127.0.0.300]""#)
        let uri = try schema(#"{"format":"uri"}"#)
        try assertValid(uri, #""https://example.com/a?b=c#d""#, #""urn:isbn:0451450523""#, #""mailto:a@b.c""#)
        try assertValid(uri, #""https://example.com/%C3%A9?q=a%20b""#, #""foo:""#)
        try assertAllInvalid(
            uri, #""example.com""#, #""/relative/path""#, #""http://a b""#, #""1http://x""#, #""http://é.com""#,
            #""http://x/%zz""#, #""http://x/%2""#, #""http://x/100%""#, #""http://x/{y}""#)
        let uuid = try schema(#"{"format":"uuid"}"#)
        try assertValid(uuid, #""123e4567-e89b-12d3-a456-426614174000""#, #""123E4567-E89B-12D3-A456-426614174000""#)
        try assertAllInvalid(uuid, #""123e4567e89b12d3a456426614174000""#, #""123e4567-e89b-12d3-a456-42661417400g""#)
        let ipv4 = try schema(#"{"format":"ipv4"}"#)
        try assertValid(ipv4, #""127.0.0.1""#, #""255.255.255.255""#)
        try assertAllInvalid(ipv4, #""256.0.0.1""#, #""1.2.3""#, #""01.2.3.4""#, #""1.2.3.4.5""#)
        // Unknown formats are annotations; checking can be switched off.
        try assertValid(try schema(#"{"format":"hostname-ish"}"#), "\"anything at all\"")
        try assertValid(try schema(#"{"format":"date-time"}"#, checkFormats: false), #""yesterday""#)
    }

    // MARK: Combinators

    func testAllOf() throws {
        let s = try schema(#"{"allOf":[{"type":"integer"},{"minimum":3},{"maximum":5}]}"#)
        try assertValid(s, "3", "5")
        try assertInvalid(s, "7", "7 is greater than the maximum 5")
        let violations = try assertInvalid(s, "2.5")
        XCTAssertEqual(violations.map(\.keyword), ["type", "minimum"])
    }

    func testAnyOf() throws {
        let nullable = try schema(#"{"properties":{"x":{"anyOf":[{"type":"string"},{"type":"null"}]}}}"#)
        try assertValid(nullable, #"{"x":"a"}"#, #"{"x":null}"#)
        try assertInvalid(nullable, #"{"x":1}"#, "/x: expected string or null, got integer", keyword: "anyOf")
        let mixed = try schema(#"{"anyOf":[{"type":"string","maxLength":2},{"type":"integer","minimum":10}]}"#)
        try assertValid(mixed, "\"ab\"", "10")
        try assertInvalid(
            mixed, "5",
            "must match at least one schema in anyOf, matched none (0: expected string, got integer; 1: 5 is less than the minimum 10)"
        )
    }

    func testOneOf() throws {
        let s = try schema(#"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#)
        try assertValid(s, "1", "2.5")
        try assertInvalid(s, "3", "must match exactly one schema in oneOf, matched 2 (branches 0, 1)", keyword: "oneOf")
        try assertInvalid(s, "1.5", keyword: "oneOf")
        let types = try schema(#"{"oneOf":[{"type":"string"},{"type":"boolean"}]}"#)
        try assertInvalid(types, "null", "expected string or boolean, got null")
    }

    func testNot() throws {
        let s = try schema(#"{"properties":{"a":{"not":{"type":"string"}}}}"#)
        try assertValid(s, #"{"a":1}"#, #"{"a":null}"#)
        try assertInvalid(s, #"{"a":"x"}"#, "/a: must not match the schema in 'not'", keyword: "not")
        try assertInvalid(try schema(#"{"not":{}}"#), "1")
        try assertValid(try schema(#"{"not":false}"#), "1")
    }

    func testIfThenElse() throws {
        let s = try schema(
            #"""
            {"if":{"properties":{"kind":{"const":"card"}},"required":["kind"]},
             "then":{"required":["number"]},
             "else":{"required":["iban"]}}
            """#)
        try assertValid(s, #"{"kind":"card","number":"4111"}"#, #"{"kind":"bank","iban":"DE00"}"#, #"{"iban":"x"}"#)
        try assertInvalid(s, #"{"kind":"card"}"#, "missing required property 'number'")
        try assertInvalid(s, #"{"kind":"bank"}"#, "missing required property 'iban'")
        // then/else without if, and if alone, do nothing.
        try assertValid(try schema(#"{"then":false,"else":false}"#), "1")
        try assertValid(try schema(#"{"if":false}"#), "1")
        try assertValid(try schema(#"{"if":true,"else":false}"#), "1")
        try assertInvalid(try schema(#"{"if":true,"then":false}"#), "1")
    }

    // MARK: Boolean schemas, unknown keywords

    func testBooleanSchemas() throws {
        let yes = try schema("true")
        try assertValid(yes, "null", "1", "{}", "[]")
        let no = try schema("false")
        try assertInvalid(no, "1", "no value is allowed here", keyword: "false")
        try assertInvalid(no, "null")
        let s = try schema(#"{"properties":{"a":true,"b":false}}"#)
        try assertValid(s, #"{"a":[1]}"#)
        try assertInvalid(s, #"{"b":1}"#, "/b: no value is allowed here")
        try assertValid(try schema("{}"), "1", "\"x\"")
    }

    func testUnknownKeywordsAreIgnored() throws {
        let s = try schema(
            #"""
            {"title":"T","description":"D","default":{"bad":"default"},"examples":[1,"x"],"$comment":"c",
             "x-custom":{"type":5},"deprecated":true,"readOnly":true,"$schema":"https://json-schema.org/draft/2020-12/schema",
             "$id":"https://example.com/t","unevaluatedProperties":false,"type":"object"}
            """#)
        try assertValid(s, #"{"anything":1}"#)
    }

    // MARK: $ref

    func testRefToDefsAndDefinitions() throws {
        let s = try schema(
            #"""
            {"$defs":{"name":{"type":"string","minLength":1}},
             "definitions":{"age":{"type":"integer","minimum":0}},
             "properties":{"name":{"$ref":"#/$defs/name"},"age":{"$ref":"#/definitions/age"}}}
            """#)
        try assertValid(s, #"{"name":"a","age":3}"#)
        try assertInvalid(s, #"{"name":""}"#, "/name: must be at least 1 character long, got 0")
        try assertInvalid(s, #"{"age":-1}"#, "/age: -1 is less than the minimum 0")
        let violations = try assertInvalid(s, #"{"age":"x"}"#)
        XCTAssertEqual(violations.first?.schemaPath, "/definitions/age/type")
    }

    func testDraft07RefReplacesItsSchema() throws {
        let draft7 = try schema(
            ##"{"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"a":{"type":"integer"}},"properties":{"x":{"$ref":"#/definitions/a","type":"string"}}}"##
        )
        try assertValid(draft7, #"{"x":1}"#)
        try assertInvalid(draft7, #"{"x":"s"}"#, "/x: expected integer, got string")
        let current = try schema(
            ##"{"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":{"a":{"type":"integer"}},"properties":{"x":{"$ref":"#/$defs/a","minimum":5}}}"##
        )
        try assertInvalid(current, #"{"x":1}"#, "/x: 1 is less than the minimum 5")
        // Draft-07 ignores the siblings entirely, malformed ones included.
        XCTAssertNoThrow(try CompiledSchema(try JSONValue.parse(##"{"$schema":"http://json-schema.org/draft-04/schema#","$ref":"#/definitions/a","definitions":{"a":{}},"type":5}"##)))
    }

    func testRefSiblingsStillApply() throws {
        let s = try schema(##"{"$defs":{"s":{"type":"string"}},"$ref":"#/$defs/s","maxLength":2}"##)
        try assertValid(s, "\"ab\"")
        try assertAllInvalid(s, "\"abc\"", "1")
    }

    func testRecursiveRefToRoot() throws {
        let s = try schema(
            #"""
            {"type":"object","properties":{"value":{"type":"integer"},
             "children":{"type":"array","items":{"$ref":"#"}}},"required":["value"]}
            """#)
        try assertValid(s, #"{"value":1,"children":[{"value":2,"children":[{"value":3}]},{"value":4}]}"#)
        try assertInvalid(
            s, #"{"value":1,"children":[{"value":2,"children":[{"value":"x"}]}]}"#,
            "/children/0/children/0/value: expected integer, got string")
        try assertInvalid(s, #"{"value":1,"children":[{}]}"#, "/children/0: missing required property 'value'")
    }

    func testRefEncodingsAnchorsAndIds() throws {
        let s = try schema(
            #"""
            {"$id":"https://example.com/root.json",
             "$defs":{"a/b":{"type":"integer"},"c~d":{"type":"string"},"with space":{"type":"boolean"},
                      "anchored":{"$anchor":"thing","type":"null"},"old":{"$id":"#legacy","type":"array"}},
             "properties":{
               "p1":{"$ref":"#/$defs/a~1b"},
               "p2":{"$ref":"#/$defs/c~0d"},
               "p3":{"$ref":"#/$defs/with%20space"},
               "p4":{"$ref":"#thing"},
               "p5":{"$ref":"https://example.com/root.json#/$defs/a~1b"},
               "p6":{"$ref":"#legacy"},
               "p7":{"$ref":"#/properties/p1"}
             }}
            """#)
        try assertValid(
            s, #"{"p1":1,"p2":"x","p3":true,"p4":null,"p5":2,"p6":[],"p7":3}"#)
        try assertInvalid(s, #"{"p1":"x"}"#, "/p1: expected integer, got string")
        try assertInvalid(s, #"{"p2":1}"#, "/p2: expected string, got integer")
        try assertInvalid(s, #"{"p3":1}"#, "/p3: expected boolean, got integer")
        try assertInvalid(s, #"{"p4":1}"#, "/p4: expected null, got integer")
        try assertInvalid(s, #"{"p5":"x"}"#)
        try assertInvalid(s, #"{"p6":{}}"#)
        try assertInvalid(s, #"{"p7":1.5}"#)
    }

    func testEmbeddedResourcesResolveAgainstTheirOwnId() throws {
        // A bundled schema: each embedded resource's "#/..." refs point into that resource.
        let s = try schema(
            ##"""
            {"$id":"https://example.com/root.json",
             "$defs":{
               "item":{"type":"string"},
               "other":{"$id":"other.json","$defs":{"item":{"type":"integer"}},
                        "properties":{"n":{"$ref":"#/$defs/item"},"a":{"$ref":"named.json#named"}}},
               "named":{"$id":"https://example.com/named.json","$anchor":"named","type":"boolean"},
               "legacy":{"$id":"https://example.com/legacy.json","$defs":{"x":{"$anchor":"named","type":"null"}}}},
             "properties":{
               "root":{"$ref":"#/$defs/item"},
               "viaId":{"$ref":"other.json"},
               "viaAbsolute":{"$ref":"https://example.com/other.json#/$defs/item"},
               "anchorElsewhere":{"$ref":"named.json#named"},
               "legacyAnchor":{"$ref":"legacy.json#named"}}}
            """##)
        try assertValid(
            s, #"{"root":"s","viaId":{"n":1,"a":true},"viaAbsolute":2,"anchorElsewhere":false,"legacyAnchor":null}"#)
        try assertInvalid(s, #"{"root":1}"#, "/root: expected string, got integer")
        try assertInvalid(s, #"{"viaId":{"n":"s"}}"#, "/viaId/n: expected integer, got string")
        try assertInvalid(s, #"{"viaAbsolute":"s"}"#, "/viaAbsolute: expected integer, got string")
        try assertInvalid(s, #"{"viaId":{"a":1}}"#, "/viaId/a: expected boolean, got integer")
        try assertInvalid(s, #"{"legacyAnchor":1}"#, "/legacyAnchor: expected null, got integer")
        // "#named" inside other.json is other.json's anchor: none there.
        try assertCompileError(
            ##"{"$defs":{"o":{"$id":"o.json","properties":{"x":{"$ref":"#nope"}}}},"$ref":"o.json"}"##, "no such anchor")
        try assertCompileError(##"{"$ref":"http://example.com/elsewhere.json"}"##, "only references within this schema")
    }

    func testRefToFalseAndToTrue() throws {
        let s = try schema(##"{"$defs":{"no":false,"yes":true},"properties":{"a":{"$ref":"#/$defs/no"},"b":{"$ref":"#/$defs/yes"}}}"##)
        try assertValid(s, #"{"b":[1,2]}"#)
        try assertInvalid(s, #"{"a":1}"#, "/a: no value is allowed here")
        let closed = try schema(##"{"$defs":{"no":false},"additionalProperties":{"$ref":"#/$defs/no"}}"##)
        try assertInvalid(closed, #"{"x":1}"#, "/x: no value is allowed here")
    }

    func testDynamicAndRecursiveRefResolveStatically() throws {
        let s = try schema(##"{"$dynamicAnchor":"node","properties":{"next":{"$dynamicRef":"#node"}},"type":"object"}"##)
        try assertValid(s, #"{"next":{"next":{}}}"#)
        try assertInvalid(s, #"{"next":{"next":1}}"#, "/next/next: expected object, got integer")
        let r = try schema(##"{"properties":{"next":{"$recursiveRef":"#"}},"type":"object"}"##)
        try assertInvalid(r, #"{"next":{"next":1}}"#, "/next/next: expected object, got integer")
    }

    func testRefCyclesThatNeverDescendAreRejected() throws {
        try assertCompileError(##"{"$ref":"#"}"##, "reference cycle")
        try assertCompileError(##"{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}"##, "reference cycle")
        // Unused, but still a trap: rejected too.
        try assertCompileError(##"{"$defs":{"a":{"anyOf":[{"type":"string"},{"$ref":"#/$defs/a"}]}}}"##, "reference cycle")
        try assertCompileError(##"{"allOf":[{"not":{"$ref":"#"}}]}"##, "reference cycle")
        try assertCompileError(##"{"if":{"$ref":"#"},"then":true}"##, "reference cycle")
        try assertCompileError(##"{"dependentSchemas":{"a":{"$ref":"#"}}}"##, "reference cycle")
        try assertCompileError(##"{"$defs":{"a":{"$ref":"#/$defs/a"}}}"##, "#/$defs/a -> #/$defs/a")
    }

    func testRecursionDepthIsBounded() throws {
        // A legitimately recursive schema against a value nested far deeper than any parsed JSON:
        // validation stops with a violation instead of exhausting the stack.
        let s = try schema(##"{"type":"object","properties":{"child":{"$ref":"#"}}}"##)
        var value: JSONValue = [:]
        for _ in 0..<5_000 { value = ["child": value] }
        XCTAssertFalse(s.isValid(value))
        let violations = s.validate(value)
        XCTAssertEqual(violations.count, 1)
        XCTAssertTrue(violations.firstMessage?.contains("levels deep") ?? false, violations.firstMessage ?? "")
        // …while the deepest value the parser accepts is fine.
        var shallow: JSONValue = [:]
        for _ in 0..<127 { shallow = ["child": shallow] }
        XCTAssertTrue(s.isValid(shallow))
        XCTAssertNoThrow(try JSONValue.parse(shallow.jsonString))
        XCTAssertTrue(s.isValid(try JSONValue.parse(shallow.jsonString)))
    }

    func testDeepRecursionOnASmallStack() throws {
        // Worst case on a thread with a small stack (512 KiB, like Darwin's secondary threads).
        let s = try schema(
            ##"{"anyOf":[{"type":"null"},{"type":"object","properties":{"child":{"allOf":[{"$ref":"#"}]}}}]}"##)
        var value: JSONValue = [:]
        for _ in 0..<5_000 { value = ["child": value] }
        let done = expectation(description: "validated")
        let box = UncheckedBox(value: value, schema: s)
        let thread = Thread {
            _ = box.schema.validate(box.value)
            _ = box.schema.isValid(box.value)
            // Destroying a 5,000-deep value recurses too; leave that to the main thread.
            box.value = .null
            done.fulfill()
        }
        // Release builds need < 200 KiB for this; unoptimized frames are several times larger.
        #if DEBUG
            thread.stackSize = 2 * 1024 * 1024
        #else
            thread.stackSize = 512 * 1024
        #endif
        thread.start()
        withExtendedLifetime(value) { wait(for: [done], timeout: 30) }
    }

    func testWorkIsBounded() throws {
        // Two anyOf branches that both recurse into the same member double the work per level.
        // (`properties` is checked before `allOf`, so each branch recurses before it fails.)
        let definitions = ##"""
            {"n":{"anyOf":[
               {"properties":{"a":{"$ref":"#/$defs/n"}},"allOf":[{"required":["x"]}]},
               {"properties":{"a":{"$ref":"#/$defs/n"}},"allOf":[{"required":["y"]}]}]}}
            """##
        // A small budget keeps the test quick; the default (250,000) behaves the same, slower.
        let s = try CompiledSchema(
            try JSONValue.parse(##"{"$defs":\##(definitions),"$ref":"#/$defs/n"}"##), checkFormats: true,
            evaluationBudget: 20_000)
        var value: JSONValue = [:]
        for _ in 0..<60 { value = ["a": value] }
        let start = Date()
        XCTAssertFalse(s.isValid(value))
        let violations = s.validate(value)
        XCTAssertEqual(violations.count, 1)
        XCTAssertTrue(violations.firstMessage?.contains("too much work") ?? false, violations.firstMessage ?? "")
        // Running out under `not` must not turn into a pass.
        let negated = try CompiledSchema(
            try JSONValue.parse(##"{"$defs":\##(definitions),"not":{"$ref":"#/$defs/n"}}"##), checkFormats: true,
            evaluationBudget: 20_000)
        XCTAssertFalse(negated.isValid(value))
        XCTAssertTrue(negated.validate(value).firstMessage?.contains("too much work") ?? false)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        // Shallow values are still answered properly.
        try assertValid(s, #"{"x":1}"#, #"{"a":{"y":1},"x":1}"#)
        try assertInvalid(s, #"{"a":{"x":1}}"#, keyword: "anyOf")
        XCTAssertEqual(
            try CompiledSchema(JSONValue.parse(##"{"$defs":\##(definitions),"$ref":"#/$defs/n"}"##)).validate(value).firstMessage,
            "validation takes too much work; giving up")
    }

    func testBigValuesGetProportionalBudget() throws {
        // 16 steps per value node: a big but plain value is not "too much work".
        let s = try CompiledSchema(
            JSONValue.parse(#"{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer"}}}}"#),
            checkFormats: true, evaluationBudget: 1_000)
        var elements: [JSONValue] = []
        for i in 0..<5_000 { elements.append(["n": .int(Int64(i))]) }
        XCTAssertTrue(s.isValid(.array(elements)))
        XCTAssertEqual(s.validate(.array(elements)), [])
        elements[4_321] = ["n": "x"]
        XCTAssertEqual(s.validate(.array(elements)).firstMessage, "/4321/n: expected integer, got string")
        XCTAssertEqual(nodeCount(.array(elements), upTo: .max), 1 + 5_000 * 2)
    }

    // MARK: Compile errors

    func testInvalidSchemasThrowAtCompileTime() throws {
        try assertCompileError(#"{"type":5}"#, "type must be a string or an array of strings", path: "/type")
        try assertCompileError(#"{"type":"strnig"}"#, "unknown type 'strnig'")
        try assertCompileError(#"{"type":[]}"#, "type must not be an empty array")
        try assertCompileError(#"{"type":["string",1]}"#, "type must be a string or an array of strings")
        try assertCompileError(#"{"pattern":"(unclosed"}"#, "'(unclosed' is not a valid regular expression", path: "/pattern")
        try assertCompileError(#"{"pattern":5}"#, "pattern must be a string")
        try assertCompileError(#"{"patternProperties":{"[a-":{}}}"#, "not a valid regular expression", path: "/patternProperties/[a-")
        try assertCompileError(#"{"properties":{"a":{"minLength":-1}}}"#, "minLength must be a non-negative integer", path: "/properties/a/minLength")
        try assertCompileError(#"{"maxItems":"3"}"#, "maxItems must be a non-negative integer")
        try assertCompileError(#"{"minProperties":1.5}"#, "minProperties must be a non-negative integer")
        try assertCompileError(#"{"required":"a"}"#, "required must be an array of strings")
        try assertCompileError(#"{"required":[1]}"#, "required must be an array of strings")
        try assertCompileError(#"{"properties":[]}"#, "properties must be an object")
        try assertCompileError(#"{"enum":"a"}"#, "enum must be an array")
        try assertCompileError(#"{"minimum":"0"}"#, "minimum must be a number")
        try assertCompileError(#"{"exclusiveMaximum":"0"}"#, "exclusiveMaximum must be a number")
        try assertCompileError(#"{"multipleOf":0}"#, "multipleOf must be greater than 0")
        try assertCompileError(#"{"multipleOf":-2.5}"#, "multipleOf must be greater than 0")
        try assertCompileError(#"{"allOf":[]}"#, "allOf must be a non-empty array of schemas")
        try assertCompileError(#"{"anyOf":{}}"#, "anyOf must be a non-empty array of schemas")
        try assertCompileError(#"{"oneOf":[1]}"#, "a schema must be an object or a boolean, got integer", path: "/oneOf/0")
        try assertCompileError(#"{"not":"x"}"#, "a schema must be an object or a boolean")
        try assertCompileError(#"{"items":[{}],"prefixItems":[{}]}"#, "items must be a schema when prefixItems is present")
        try assertCompileError(#"{"uniqueItems":"yes"}"#, "uniqueItems must be a boolean")
        try assertCompileError(#"{"format":1}"#, "format must be a string")
        try assertCompileError(#"{"$ref":1}"#, "$ref must be a string")
        try assertCompileError(##"{"$ref":"#/$defs/missing"}"##, "cannot resolve '#/$defs/missing'")
        try assertCompileError(##"{"$ref":"#nowhere"}"##, "no such anchor")
        try assertCompileError(#"{"$ref":"https://example.com/other.json"}"#, "only references within this schema")
        try assertCompileError(#"{"$ref":"other.json#/a"}"#, "only references within this schema")
        try assertCompileError(#"{"$defs":[]}"#, "$defs must be an object")
        try assertCompileError(#"{"$defs":{"bad":{"type":"nope"}}}"#, "unknown type 'nope'", path: "/$defs/bad/type")
        try assertCompileError(#"{"then":{"minimum":"x"}}"#, "minimum must be a number")
        try assertCompileError(#"{"dependentRequired":{"a":"b"}}"#, "must be an array of strings")
        try assertCompileError("5", "a schema must be an object or a boolean, got integer", path: "")
        try assertCompileError("null", "a schema must be an object or a boolean")
        let error = try XCTUnwrap(
            { () -> JSONSchemaCompileError? in
                do { _ = try CompiledSchema(["properties": ["a": ["type": 5]]]) } catch { return error as? JSONSchemaCompileError }
                return nil
            }())
        XCTAssertEqual(error.description, "invalid schema at /properties/a/type: type must be a string or an array of strings, got integer")
    }

    func testDeepButAllowedSchema() throws {
        var schema: JSONValue = ["type": "string"]
        var value: JSONValue = "leaf"
        for _ in 0..<100 {
            schema = ["type": "array", "items": schema]
            value = [value]
        }
        let s = try CompiledSchema(try JSONValue.parse(schema.jsonString))
        XCTAssertTrue(s.isValid(value))
        let path = String(repeating: "/0", count: 100)
        var bad: JSONValue = 1
        for _ in 0..<100 { bad = [bad] }
        XCTAssertEqual(s.validate(bad).firstMessage, "\(path): expected string, got integer")
    }

    func testHugeLimitsAreClamped() throws {
        try assertValid(try schema(#"{"maxLength":1e12,"maxItems":99999999999}"#), "\"abc\"", "[1]")
        try assertInvalid(try schema(#"{"minLength":1e12}"#), "\"abc\"")
        try assertCompileError(#"{"maxLength":1.5}"#, "maxLength must be a non-negative integer, got 1.5")
        try assertCompileError(#"{"maxLength":-1}"#, "maxLength must be a non-negative integer, got -1")
    }

    func testOverlyDeepSchemaIsRejected() throws {
        var schema: JSONValue = ["type": "string"]
        for _ in 0..<1_000 { schema = ["items": schema] }
        XCTAssertThrowsError(try CompiledSchema(schema)) { error in
            XCTAssertTrue(String(describing: error).contains("levels deep"), "\(error)")
        }
    }

    // MARK: Reporting

    func testViolationsAreBounded() throws {
        let s = try schema(#"{"additionalProperties":{"type":"string"}}"#)
        let fields = (0..<50).map { #""f\#($0)":\#($0)"# }.joined(separator: ",")
        let value = try JSONValue.parse("{\(fields)}")
        XCTAssertEqual(s.validate(value).count, CompiledSchema.defaultMaxViolations)
        XCTAssertEqual(s.validate(value, maxViolations: 3).map(\.instancePath), ["/f0", "/f1", "/f2"])
        XCTAssertEqual(s.validate(value, maxViolations: 100).count, 50)
        XCTAssertEqual(s.validate(value, maxViolations: 0).count, 1)
    }

    func testCheckThrowsWithFirstMessage() throws {
        let s = try schema(echoSchema)
        XCTAssertNoThrow(try s.check(["message": "hi"]))
        XCTAssertThrowsError(try s.check(["message": 1, "x": 2])) { error in
            guard let error = error as? JSONSchemaValidationError else { return XCTFail("wrong error type") }
            XCTAssertEqual(error.firstMessage, "/message: expected string, got integer")
            XCTAssertEqual(error.violations.count, 2)
            XCTAssertEqual(error.description, "/message: expected string, got integer; unexpected property 'x'")
        }
        XCTAssertNil([JSONSchemaViolation]().firstMessage)
    }

    func testSchemaIsKept() throws {
        let source = try JSONValue.parse(echoSchema)
        XCTAssertEqual(try CompiledSchema(source).schema, source)
    }

    // MARK: Concurrency and speed

    func testSharedAcrossTasks() async throws {
        let s = try schema(echoSchema)
        let results = await withTaskGroup(of: Int.self) { group in
            for i in 0..<16 {
                group.addTask {
                    var failures = 0
                    for j in 0..<500 {
                        let ok: JSONValue = ["message": .string("m\(i)-\(j)")]
                        let bad: JSONValue = ["message": .int(Int64(j))]
                        if !s.validate(ok).isEmpty { failures += 1 }
                        if s.validate(bad).firstMessage != "/message: expected string, got integer" { failures += 1 }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        XCTAssertEqual(results, 0)
    }

    func testPatternsSharedAcrossThreads() async throws {
        let s = try schema(
            #"{"properties":{"code":{"pattern":"^[A-Z]{2}-[0-9]+$"}},"patternProperties":{"^x-":{"type":"string"}}}"#)
        let failures = await withTaskGroup(of: Int.self) { group in
            for i in 0..<8 {
                group.addTask {
                    var failures = 0
                    for j in 0..<300 {
                        let good: JSONValue = ["code": .string("AB-\(i)\(j)"), "x-\(j)": "s"]
                        let bad: JSONValue = ["code": .string("ab-\(j)"), "x-\(i)": .int(1)]
                        if !s.isValid(good) { failures += 1 }
                        if s.validate(bad).count != 2 { failures += 1 }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        XCTAssertEqual(failures, 0)
    }
}

private final class UncheckedBox: @unchecked Sendable {
    var value: JSONValue
    let schema: CompiledSchema
    init(value: JSONValue, schema: CompiledSchema) {
        self.value = value
        self.schema = schema
    }
}
