/// Walks the members of a JSON object or the elements of an array without building values, for
/// documents in a plain subset of JSON: ASCII strings whose escapes are the two-character ones
/// (`\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t`), numbers without an exponent, nesting up to 32 deep.
/// Anything outside that subset — `\u` escapes, non-ASCII bytes, exponents, and every malformed
/// input — answers `false`, and the caller parses with `JSONValue.parse`, whose verdicts and
/// messages stay the only ones. Whatever the skim accepts, `JSONValue.parse` accepts with the same
/// structure (`JSONSkimTests` holds the two to that).
///
/// Why: a plugin's CallToolResult is checked before its bytes are forwarded. Checking it through a
/// parsed tree (allocated, read for three members, torn down) was ~12.2k of a tools/call's ~127k
/// instructions; skimming it and parsing only `structuredContent` is ~9.4k
/// (scripts/callgrind-request-cost: 127.4k -> 124.2k per tools/call, with the string scan it
/// shares with the parser).
public enum JSONSkim {
    /// Calls `body` with each member's raw key bytes (between the quotes, escapes as written) and
    /// the byte range of its value, for the object that `range` holds (surrounding whitespace
    /// allowed). False when `range` is not exactly one object of the subset, or `body` said stop.
    public static func forEachMember(
        _ bytes: UnsafeRawBufferPointer, in range: Range<Int>,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: Range<Int>) -> Bool
    ) -> Bool {
        var skim = Skimmer(bytes: bytes, index: range.lowerBound, end: range.upperBound)
        skim.skipWhitespace()
        return skim.walk(open: UInt8(ascii: "{"), close: UInt8(ascii: "}")) { skim in
            guard let key = skim.member() else { return false }
            let start = skim.index
            return skim.skipValue(depth: 1) && body(UnsafeRawBufferPointer(rebasing: bytes[key]), start..<skim.index)
        } && skim.atEnd()
    }

    /// Calls `body` with the byte range of each element of the array that `range` holds; false as
    /// for `forEachMember`.
    public static func forEachElement(
        _ bytes: UnsafeRawBufferPointer, in range: Range<Int>, _ body: (_ element: Range<Int>) -> Bool
    ) -> Bool {
        var skim = Skimmer(bytes: bytes, index: range.lowerBound, end: range.upperBound)
        skim.skipWhitespace()
        return skim.walk(open: UInt8(ascii: "["), close: UInt8(ascii: "]")) { skim in
            let start = skim.index
            return skim.skipValue(depth: 1) && body(start..<skim.index)
        } && skim.atEnd()
    }

    /// Whether `bytes` spell exactly `text`.
    @inlinable
    public static func bytes(_ bytes: UnsafeRawBufferPointer, equal text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        let expected = text.utf8Start
        for offset in 0..<bytes.count where bytes[offset] != expected[offset] { return false }
        return true
    }

    private static let maxDepth = 32

    private struct Skimmer {
        let bytes: UnsafeRawBufferPointer
        var index: Int
        let end: Int

        /// The byte at `index`, or 0 (never valid here) past the end.
        var peek: UInt8 { index < end ? bytes[index] : 0 }

        mutating func skipWhitespace() {
            while index < end {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        /// Only whitespace is left.
        mutating func atEnd() -> Bool {
            skipWhitespace()
            return index == end
        }

        /// The range between the quotes of the string at `index`.
        mutating func skipString() -> Range<Int>? {
            guard peek == UInt8(ascii: "\"") else { return nil }
            index += 1
            let start = index
            while index < end {
                let (stop, nonASCII) = PlainRun.scan(bytes, from: index, to: end)
                guard !nonASCII, stop < end else { return nil }  // non-ASCII needs UTF-8 validation
                index = stop
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<(index - 1)
                case UInt8(ascii: "\\"):
                    guard index + 1 < end else { return nil }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 2
                    default: return nil  // \u, or invalid: the parser decides
                    }
                default: return nil  // a control character: invalid, the parser says so
                }
            }
            return nil
        }

        mutating func skipValue(depth: Int) -> Bool {
            guard depth <= JSONSkim.maxDepth else { return false }
            switch peek {
            case UInt8(ascii: "\""): return skipString() != nil
            case UInt8(ascii: "{"):
                return walk(open: UInt8(ascii: "{"), close: UInt8(ascii: "}")) { skim in
                    skim.member() != nil && skim.skipValue(depth: depth + 1)
                }
            case UInt8(ascii: "["):
                return walk(open: UInt8(ascii: "["), close: UInt8(ascii: "]")) { skim in skim.skipValue(depth: depth + 1) }
            case UInt8(ascii: "t"): return skipLiteral("true")
            case UInt8(ascii: "f"): return skipLiteral("false")
            case UInt8(ascii: "n"): return skipLiteral("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return skipNumber()
            default: return false
            }
        }

        /// An object or array at `index`: `item` reads each member or element (whitespace around
        /// it already skipped), separated by commas, up to `close`.
        mutating func walk(open: UInt8, close: UInt8, _ item: (inout Skimmer) -> Bool) -> Bool {
            guard peek == open else { return false }
            index += 1
            skipWhitespace()
            if peek == close {
                index += 1
                return true
            }
            while true {
                skipWhitespace()
                guard item(&self) else { return false }
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case close:
                    index += 1
                    return true
                default: return false
                }
            }
        }

        /// A member's key and the colon after it; the range of the key's bytes.
        mutating func member() -> Range<Int>? {
            guard let key = skipString() else { return nil }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace()
            return key
        }

        mutating func skipLiteral(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard index + count <= end,
                JSONSkim.bytes(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + count)]), equal: literal)
            else { return false }
            index += count
            return true
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, at most 300 bytes (always a finite double); an exponent
        /// is left to the parser.
        mutating func skipNumber() -> Bool {
            let start = index
            if peek == UInt8(ascii: "-") { index += 1 }
            switch peek {
            case UInt8(ascii: "0"): index += 1
            case UInt8(ascii: "1")...UInt8(ascii: "9"): skipDigits()
            default: return false
            }
            if peek == UInt8(ascii: ".") {
                index += 1
                let digits = index
                skipDigits()
                guard index > digits else { return false }
            }
            switch peek {
            case UInt8(ascii: "e"), UInt8(ascii: "E"): return false
            default: return index - start <= 300
            }
        }

        mutating func skipDigits() {
            while index < end, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        }
    }
}
