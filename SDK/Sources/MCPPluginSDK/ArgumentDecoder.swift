#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A `Decoder` for tool arguments that handles the common shapes (objects, arrays, strings, bools,
/// plain integers, finite doubles) with a few allocations, and gives up on anything else.
///
/// Why: Foundation's `JSONDecoder` took ~15k instructions (callgrind) to decode echo's one-field
/// `{"message":"…"}`, of a tools/call's ~218k, most of it fixed per-`decode` setup. This decoder
/// does the same in ~6.5k.
///
/// Contract: `decode` returns a value only when `JSONDecoder` (default strategies, as
/// `sharedDecoder`) would return the same value; otherwise it returns nil and the caller decodes
/// with `JSONDecoder`, so errors and every unusual case (numbers like `1.0` for an `Int`, `Data`,
/// `Date`, `URL`, `Decimal`, `Float`, duplicate keys, invalid text) behave exactly as before.
/// An error thrown while decoding also ends in the fallback: the value's `init(from:)` then runs a
/// second time, under `JSONDecoder`, which is what reports the error.
/// Inside the decode, errors are thrown only where `JSONDecoder` throws too (a wrong type, a
/// missing key, a null), so a `try?` in a custom `init(from:)` takes the same branch; whatever this
/// decoder cannot answer exactly marks the whole decode as unsupported, even if a `try?` swallows it.
enum ArgumentDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from json: Data) -> T? {
        let parsed: ParsedJSON? = json.withUnsafeBytes { bytes in
            var parser = ParsedJSON.Parser(bytes: bytes)
            return parser.parseDocument()
        }
        guard let parsed else { return nil }
        let state = DecodeState()
        let value: T
        do {
            value = try FastDecoder(node: parsed, state: state, parent: nil, key: nil).decodeSelf(T.self)
        } catch {
            return nil
        }
        return state.unsupported ? nil : value
    }
}

/// A parsed JSON value. Numbers keep their literal (short literals are small strings: no
/// allocation) so each numeric type converts it the way `JSONDecoder` does, or declines.
enum ParsedJSON {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([ParsedJSON])
    case object([(key: String, value: ParsedJSON)])

    /// A strict RFC 8259 parser that returns nil for anything it does not accept, including
    /// duplicate keys, nesting deeper than `maxDepth` and objects of more than `maxMembers`
    /// members (key lookups are linear scans, cheap for the few keys arguments have).
    struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0
        var depth = 0
        static let maxDepth = 128
        static let maxMembers = 32

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func parseDocument() -> ParsedJSON? {
            guard let value = parseValue() else { return nil }
            skipWhitespace()
            return index == bytes.count ? value : nil
        }

        private mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        private mutating func parseValue() -> ParsedJSON? {
            skipWhitespace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"): return parseObject()
            case UInt8(ascii: "["): return parseArray()
            case UInt8(ascii: "\""): return parseString().map { .string($0) }
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return parseNumber()
            }
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        private mutating func parseObject() -> ParsedJSON? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { return nil }
            index += 1  // {
            var members: [(key: String, value: ParsedJSON)] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = parseString() else { return nil }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let value = parseValue() else { return nil }
                // Duplicate keys: JSONDecoder's choice among them is its own business.
                guard members.count < Self.maxMembers else { return nil }
                for member in members where member.key == key { return nil }
                members.append((key, value))
                skipWhitespace()
                guard index < bytes.count else { return nil }
                switch bytes[index] {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"): index += 1; return .object(members)
                default: return nil
                }
            }
        }

        private mutating func parseArray() -> ParsedJSON? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { return nil }
            index += 1  // [
            var elements: [ParsedJSON] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                guard let value = parseValue() else { return nil }
                elements.append(value)
                skipWhitespace()
                guard index < bytes.count else { return nil }
                switch bytes[index] {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"): index += 1; return .array(elements)
                default: return nil
                }
            }
        }

        /// At an opening quote. Strings without escapes (the usual case) are validated in place.
        private mutating func parseString() -> String? {
            index += 1
            let start = index
            var ascii = true
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = Self.string(UnsafeRawBufferPointer(rebasing: bytes[start..<index]), ascii: ascii)
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { return parseEscapedString(from: start) }
                if byte < 0x20 { return nil }
                if byte >= 0x80 { ascii = false }
                index += 1
            }
            return nil
        }

        /// `utf8` as a String, nil if it is not valid UTF-8. (`String(validating:as:)` costs
        /// ~1k instructions per call here, mostly generic metadata lookups; decoding is cheap, and
        /// it reproduces the bytes exactly when, and only when, they were valid.)
        static func string(_ utf8: UnsafeRawBufferPointer, ascii: Bool) -> String? {
            let text = String(decoding: utf8, as: UTF8.self)
            return ascii || text.utf8.elementsEqual(utf8) ? text : nil
        }

        private mutating func parseEscapedString(from start: Int) -> String? {
            var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return utf8.withUnsafeBytes { Self.string($0, ascii: false) }
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    if let simple = JSONEscape.byte(for: escape) {
                        utf8.append(simple)
                        continue
                    }
                    switch escape {
                    case UInt8(ascii: "u"):
                        // Surrogates (pairs or not) are left to JSONDecoder.
                        guard let unit = hex4(), !(0xD800...0xDFFF).contains(unit), let scalar = Unicode.Scalar(unit) else {
                            return nil
                        }
                        utf8.append(contentsOf: UTF8.encode(scalar)!)
                    default: return nil
                    }
                default:
                    guard byte >= 0x20 else { return nil }
                    utf8.append(byte)
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt32? {
            guard bytes.count - index >= 4, let value = JSONEscape.hex4(bytes, at: index) else { return nil }
            index += 4
            return value
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
        private mutating func parseNumber() -> ParsedJSON? {
            let start = index
            func digits(_ parser: inout Parser) -> Int {
                let first = parser.index
                while parser.index < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index]) {
                    parser.index += 1
                }
                return parser.index - first
            }
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                guard digits(&self) > 0 else { return nil }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits(&self) > 0 else { return nil }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits(&self) > 0 else { return nil }
            }
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
        }
    }
}

/// Shared by all decoders of one `decode`: set when any of them met something it cannot answer
/// exactly as `JSONDecoder` would.
final class DecodeState {
    var unsupported = false
}

/// Thrown where the answer is left to `JSONDecoder`; the state is marked too, in case a `try?`
/// swallows the error.
struct UnsupportedByFastPath: Error {}

/// The decoder of one value; its coding path is built only when asked for.
final class FastDecoder: Decoder {
    let node: ParsedJSON
    let state: DecodeState
    let parent: FastDecoder?
    let key: (any CodingKey)?
    /// The type whose `init(from:)` runs on this decoder. A primitive this file does not know
    /// (`Int128`, a future one) decodes itself from a single-value container as its own type,
    /// which would come straight back here: that is left to JSONDecoder.
    var decodingType: Any.Type?

    init(node: ParsedJSON, state: DecodeState, parent: FastDecoder?, key: (any CodingKey)?) {
        self.node = node
        self.state = state
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var decoder: FastDecoder? = self
        while let current = decoder, let key = current.key {
            path.append(key)
            decoder = current.parent
        }
        return path.reversed()
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = node else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(FastKeyedContainer<Key>(decoder: self, members: members))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node else { throw mismatch([Any].self) }
        return FastUnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { FastSingleValueContainer(decoder: self) }

    func unsupported() -> UnsupportedByFastPath {
        state.unsupported = true
        return UnsupportedByFastPath()
    }

    /// The coding path of a value inside this one (`key`), or of this one (nil).
    func path(_ key: (any CodingKey)?) -> [any CodingKey] {
        guard let key else { return codingPath }
        return codingPath + [key]
    }

    func mismatch(_ type: Any.Type, key: (any CodingKey)? = nil) -> DecodingError {
        .typeMismatch(type, .init(codingPath: path(key), debugDescription: "type mismatch"))
    }

    /// This decoder's value as `T`.
    func decodeSelf<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = try primitive(T.self, node, key: nil) { return value }
        decodingType = T.self
        return try T(from: self)
    }

    /// The value `node` at `key` inside this one as `T`: primitives without a decoder of their
    /// own, anything else through its `init(from:)`.
    func decode<T: Decodable>(_ type: T.Type, _ node: ParsedJSON, key: any CodingKey) throws -> T {
        if let value = try primitive(T.self, node, key: key) { return value }
        return try FastDecoder(node: node, state: state, parent: self, key: key).decodeSelf(T.self)
    }

    /// `node` as `T` if `T` is one of the primitives; nil if it is not (each `as? T` below
    /// succeeds: `T` is that type). Types `JSONDecoder` treats specially are left to it.
    private func primitive<T: Decodable>(_ type: T.Type, _ node: ParsedJSON, key: (any CodingKey)?) throws -> T? {
        if T.self == String.self {
            guard case .string(let text) = node else { throw nullOrMismatch(String.self, node, key: key) }
            return text as? T
        }
        if T.self == Bool.self {
            guard case .bool(let value) = node else { throw nullOrMismatch(Bool.self, node, key: key) }
            return value as? T
        }
        if T.self == Int.self { return try integer(Int.self, node, key: key) as? T }
        if T.self == Double.self { return try double(node, key: key) as? T }
        if T.self == Int64.self { return try integer(Int64.self, node, key: key) as? T }
        if T.self == UInt64.self { return try integer(UInt64.self, node, key: key) as? T }
        if T.self == Int32.self { return try integer(Int32.self, node, key: key) as? T }
        if T.self == UInt32.self { return try integer(UInt32.self, node, key: key) as? T }
        if T.self == UInt.self { return try integer(UInt.self, node, key: key) as? T }
        if T.self == Int16.self { return try integer(Int16.self, node, key: key) as? T }
        if T.self == UInt16.self { return try integer(UInt16.self, node, key: key) as? T }
        if T.self == Int8.self { return try integer(Int8.self, node, key: key) as? T }
        if T.self == UInt8.self { return try integer(UInt8.self, node, key: key) as? T }
        // JSONDecoder has its own rules for these (base64, dates, URL strings, decimal numbers,
        // Float's own parsing).
        if T.self == Data.self || T.self == Date.self || T.self == URL.self || T.self == Decimal.self || T.self == Float.self {
            throw unsupported()
        }
        return nil
    }

    func decodeNil() -> Bool {
        if case .null = node { return true }
        return false
    }

    private func nullOrMismatch(_ type: Any.Type, _ node: ParsedJSON, key: (any CodingKey)?) -> DecodingError {
        if case .null = node {
            return .valueNotFound(type, .init(codingPath: path(key), debugDescription: "null"))
        }
        return mismatch(type, key: key)
    }

    /// Plain integer literals that fit; `1.0`, `1e2`, out-of-range numbers and `-0` for an
    /// unsigned type go to JSONDecoder.
    private func integer<I: FixedWidthInteger>(_ type: I.Type, _ node: ParsedJSON, key: (any CodingKey)?) throws -> I {
        guard case .number(let literal) = node else { throw nullOrMismatch(I.self, node, key: key) }
        guard let value = I(literal, radix: 10), !(I.min == 0 && literal.utf8.first == UInt8(ascii: "-")) else {
            throw unsupported()
        }
        return value
    }

    /// Finite doubles, parsed by the standard library (correctly rounded, like JSONDecoder's
    /// parser). Overflow to infinity and underflow to zero go to JSONDecoder.
    private func double(_ node: ParsedJSON, key: (any CodingKey)?) throws -> Double {
        guard case .number(let literal) = node else { throw nullOrMismatch(Double.self, node, key: key) }
        guard let value = Double(literal), value.isFinite,
            value != 0 || !literal.utf8.contains(where: { (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) })
        else { throw unsupported() }
        return value
    }
}

struct FastKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: FastDecoder
    let members: [(key: String, value: ParsedJSON)]

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    private func lookup(_ key: Key) -> ParsedJSON? {
        let name = key.stringValue
        for member in members where member.key == name { return member.value }
        return nil
    }

    private func value(_ key: Key) throws -> ParsedJSON {
        guard let value = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for key"))
        }
        return value
    }

    private func child(_ key: Key) throws -> FastDecoder {
        FastDecoder(node: try value(key), state: decoder.state, parent: decoder, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        // A missing key (decodeIfPresent asks `contains` first): left to JSONDecoder.
        guard let value = lookup(key) else { throw decoder.unsupported() }
        if case .null = value { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.decode(T.self, try value(key), key: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try child(key).container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { throw decoder.unsupported() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw decoder.unsupported() }
}

struct FastUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: FastDecoder
    let elements: [ParsedJSON]
    var currentIndex = 0

    init(decoder: FastDecoder, elements: [ParsedJSON]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private func atEnd(_ type: Any.Type) -> DecodingError {
        .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "unkeyed container is at end"))
    }

    private mutating func next(_ type: Any.Type) throws -> FastDecoder {
        guard !isAtEnd else { throw atEnd(type) }
        return FastDecoder(node: elements[currentIndex], state: decoder.state, parent: decoder, key: IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw decoder.unsupported() }
        if case .null = elements[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard !isAtEnd else { throw atEnd(T.self) }
        let value = try decoder.decode(T.self, elements[currentIndex], key: IndexKey(currentIndex))
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try next([String: Any].self).container(keyedBy: NestedKey.self)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try next([Any].self).unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder { throw decoder.unsupported() }
}

struct FastSingleValueContainer: SingleValueDecodingContainer {
    let decoder: FastDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    func decodeNil() -> Bool { decoder.decodeNil() }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard T.self != decoder.decodingType else { throw decoder.unsupported() }
        return try decoder.decodeSelf(T.self)
    }
}

/// An array index in a coding path (`[2]`).
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue!)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}
