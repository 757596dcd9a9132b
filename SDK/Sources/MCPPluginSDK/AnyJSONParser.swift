#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension AnyJSON {
    /// Parses one JSON document (RFC 8259) from UTF-8 bytes — an upstream's answer, typically.
    ///
    /// Why not `JSONDecoder` into `AnyJSON`: `AnyJSON.init(from:)` finds a value's kind by trying
    /// Bool, then Double, then String, and every miss throws. On a 100,000-row ClickHouse answer
    /// (2 MB, 200,000 values) that took 0.9 s in a release build; this parser reads the same
    /// document in a few percent of that. Invalid UTF-8 inside strings becomes U+FFFD.
    public static func parse(_ bytes: some Collection<UInt8>) throws -> AnyJSON {
        try AnyJSONParser.parse(Array(bytes))
    }
}

extension HTTPResponse {
    /// The body as JSON.
    public func json() throws -> AnyJSON { try AnyJSON.parse(body) }
}

/// Where and why a JSON document could not be parsed.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    public var offset: Int
    public var problem: String
    public var description: String { "invalid JSON at byte \(offset): \(problem)" }
}

struct AnyJSONParser {
    typealias Malformed = JSONSyntaxError

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    private static let maxDepth = 256

    static func parse(_ bytes: [UInt8]) throws -> AnyJSON {
        var reader = AnyJSONParser(bytes: bytes)
        let value = try reader.value()
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw Malformed(offset: reader.index, problem: "text after the value") }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func value() throws -> AnyJSON {
        skipWhitespace()
        guard index < bytes.count else { throw Malformed(offset: index, problem: "unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func array() throws -> AnyJSON {
        try enter()
        defer { depth -= 1 }
        index += 1
        var items: [AnyJSON] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            items.append(try value())
            skipWhitespace()
            guard index < bytes.count else { throw Malformed(offset: index, problem: "unterminated array") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "]") { return .array(items) }
            guard byte == UInt8(ascii: ",") else { throw Malformed(offset: index - 1, problem: "expected ',' or ']'") }
        }
    }

    private mutating func object() throws -> AnyJSON {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [String: AnyJSON] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw Malformed(offset: index, problem: "expected a member name")
            }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Malformed(offset: index, problem: "expected ':'") }
            index += 1
            members[key] = try value()
            skipWhitespace()
            guard index < bytes.count else { throw Malformed(offset: index, problem: "unterminated object") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "}") { return .object(members) }
            guard byte == UInt8(ascii: ",") else { throw Malformed(offset: index - 1, problem: "expected ',' or '}'") }
        }
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw Malformed(offset: index, problem: "nested deeper than \(Self.maxDepth)") }
    }

    /// A string at `index` (on its opening quote).
    private mutating func string() throws -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") { index += 1 }
        guard index < bytes.count else { throw Malformed(offset: start - 1, problem: "unterminated string") }
        if bytes[index] == UInt8(ascii: "\"") {
            defer { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { break }
            let escape = bytes[index + 1]
            index += 2
            if let simple = JSONEscape.byte(for: escape) {
                out.append(simple)
                continue
            }
            switch escape {
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                {
                    index += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        out.append(contentsOf: [0xEF, 0xBF, 0xBD])  // a lone high surrogate
                        scalar = low
                    }
                }
                UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") { out.append($0) }
            default:
                throw Malformed(offset: index - 1, problem: "bad escape")
            }
        }
        throw Malformed(offset: start - 1, problem: "unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count, let value = JSONEscape.hex4(bytes, at: index) else {
            throw Malformed(offset: index, problem: "bad \\u escape")
        }
        index += 4
        return value
    }

    private mutating func number() throws -> Double {
        let start = index
        while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
        guard index > start, let number = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
            throw Malformed(offset: start, problem: "expected a value")
        }
        return number
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            bytes[index..<index + count].elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count))
        else { throw Malformed(offset: index, problem: "expected \(word)") }
        index += count
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }
}
