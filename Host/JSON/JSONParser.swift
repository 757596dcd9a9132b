/// Why parsing failed, with the byte offset where it did.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSONValue {
    /// Parses exactly one JSON value (surrounding whitespace allowed) from UTF-8 bytes.
    /// Nesting deeper than `maxDepth` is an error rather than a stack overflow.
    public static func parse<Bytes: Collection>(_ bytes: Bytes, maxDepth: Int = 128) throws -> JSONValue
    where Bytes.Element == UInt8 {
        let result = try bytes.withContiguousStorageIfAvailable { buffer in
            try parse(buffer: UnsafeRawBufferPointer(buffer), maxDepth: maxDepth)
        }
        if let result { return result }
        let array = Array(bytes)
        return try array.withUnsafeBytes { try parse(buffer: $0, maxDepth: maxDepth) }
    }

    /// The request path's entry point: concrete, so callers in other modules get no generic dispatch.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 128) throws -> JSONValue {
        try bytes.withUnsafeBytes { try parse(buffer: $0, maxDepth: maxDepth) }
    }

    public static func parse(_ string: String, maxDepth: Int = 128) throws -> JSONValue {
        var string = string
        return try string.withUTF8 { try parse(buffer: UnsafeRawBufferPointer($0), maxDepth: maxDepth) }
    }

    public static func parse(buffer: UnsafeRawBufferPointer, maxDepth: Int = 128) throws -> JSONValue {
        var parser = JSONBytesParser(bytes: buffer, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }
}

private struct JSONBytesParser {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func error(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: index) }

    @inline(__always) mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of input") }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            throw error("invalid literal")
        }
        index += count
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        index += 1
        var entries: [JSONObject.Entry] = []
        entries.reserveCapacity(8)
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject(entries))
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            // Duplicate keys: the last one wins, as most parsers do.
            if entries.count < 16 {
                if let existing = entries.firstIndex(where: { JSONObject.sameBytes($0.key, key) }) {
                    entries[existing].value = value
                } else {
                    entries.append(.init(key: key, value: value))
                }
            } else {
                entries.append(.init(key: key, value: value))
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw error("expected ',' or '}'")
        }
        if entries.count > 16 { entries = Self.dedupe(entries) }
        return .object(JSONObject(entries))
    }

    static func dedupe(_ entries: [JSONObject.Entry]) -> [JSONObject.Entry] {
        // Keyed by bytes: String's equality would merge canonically equivalent keys.
        var seen: [[UInt8]: Int] = [:]
        var result: [JSONObject.Entry] = []
        result.reserveCapacity(entries.count)
        for entry in entries {
            let bytes = Array(entry.key.utf8)
            if let at = seen[bytes] { result[at].value = entry.value } else {
                seen[bytes] = result.count
                result.append(entry)
            }
        }
        return result
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth)") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; break }
            throw error("expected ',' or ']'")
        }
        return .array(elements)
    }

    mutating func parseString() throws -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes. One pass finds the closing quote and notes non-ASCII bytes.
        let run = PlainRun.scan(bytes, from: start, to: bytes.count)
        let cursor = run.index
        if cursor < bytes.count {
            let byte = bytes[cursor]
            if byte == UInt8(ascii: "\"") {
                index = cursor + 1
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<cursor])
                if let interned = InternedStrings.lookup(raw) { return interned }
                return try Self.makeString(raw, ascii: !run.nonASCII, offset: start)
            }
            if byte < 0x20 {
                index = cursor
                throw error("unescaped control character in string")
            }
        }
        index = cursor  // at a backslash, or the end of the input
        // Slow path with escapes.
        var scalars: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let string = String(validating: scalars, as: UTF8.self) else {
                    throw JSONParseError(message: "invalid UTF-8 in string", offset: start)
                }
                return string
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unexpected end of input in escape") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): scalars.append(0x22)
                case UInt8(ascii: "\\"): scalars.append(0x5C)
                case UInt8(ascii: "/"): scalars.append(0x2F)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800...0xDBFF).contains(code) {
                        // A high surrogate must be followed by \u low surrogate.
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw error("unpaired surrogate in string") }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error("unpaired surrogate in string")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid unicode escape") }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw error("invalid escape")
                }
            default:
                if byte < 0x20 { throw error("unescaped control character in string") }
                scalars.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    /// ASCII (nearly every key and value on the request path) takes the specialized decoding
    /// initializer; anything else is validated as UTF-8 and refused when invalid.
    static func makeString(_ bytes: UnsafeRawBufferPointer, ascii: Bool, offset: Int) throws -> String {
        if ascii { return String(decoding: bytes.bindMemory(to: UInt8.self), as: UTF8.self) }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw JSONParseError(message: "invalid UTF-8 in string", offset: offset)
        }
        return string
    }

    mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("unexpected end of input in \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    mutating func parseNumber() throws -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw error("unexpected end of input in number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) {
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        } else {
            throw error("invalid number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw error("invalid number: no digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > digits else { throw error("invalid number: no exponent digits") }
        }
        if isInteger && index - start <= 18 {
            // Up to 18 digits always fit in Int64: accumulate without making a String.
            var value: Int64 = 0
            var position = start
            let negative = bytes[position] == UInt8(ascii: "-")
            if negative { position += 1 }
            while position < index {
                value = value * 10 + Int64(bytes[position] - UInt8(ascii: "0"))
                position += 1
            }
            return .int(negative ? -value : value)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text), value.isFinite else {
            throw JSONParseError(message: "number out of range", offset: start)
        }
        return .double(value)
    }
}

/// The run of string bytes that need no attention — anything but a quote, a backslash or a control
/// character — read eight bytes at a time (SWAR: the lowest byte each test flags is exact, since
/// borrows only run upwards). Most of a request's bytes are inside strings; shared by the parser
/// and `JSONSkim`.
enum PlainRun {
    /// The index of the first quote, backslash or control byte at or after `start` (or `end`), and
    /// whether a byte of 0x80 or above came before it.
    @inline(__always)
    static func scan(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> (index: Int, nonASCII: Bool) {
        guard let base = bytes.baseAddress else { return (start, false) }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var cursor = start
        var seen: UInt64 = 0
        while cursor + 8 <= end {
            let word = UInt64(littleEndian: (base + cursor).loadUnaligned(as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let special = (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)) & highs
            if special != 0 {
                let skipped = special.trailingZeroBitCount / 8
                seen |= word & ((1 &<< (UInt64(skipped) &* 8)) &- 1)
                return (cursor + skipped, seen & highs != 0)
            }
            seen |= word
            cursor += 8
        }
        var high: UInt8 = 0
        while cursor < end {
            let byte = base.load(fromByteOffset: cursor, as: UInt8.self)
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            high |= byte
            cursor += 1
        }
        return (cursor, seen & highs != 0 || high >= 0x80)
    }
}
