/// Minimal JSON text writing: the SDK writes the CallToolResult envelope, the manifest and HTTP
/// request descriptions itself, so only user values go through JSONEncoder.
enum JSONText {
    /// Bytes that `s` takes inside a JSON string literal (without the quotes).
    @inline(__always)
    static func escapedCount(_ s: UnsafeBufferPointer<UInt8>) -> Int {
        var count = s.count
        for byte in s where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x09, 0x0A, 0x0C, 0x0D: count += 1
            default: count += 5  // \u00XX
            }
        }
        return count
    }

    /// Writes `s` escaped (without quotes) at `out`; returns the number of bytes written, which is
    /// `escapedCount(s)`.
    @inline(__always)
    static func writeEscaped(_ s: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let hex: StaticString = "0123456789abcdef"
        var o = 0
        for byte in s {
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                out[o] = byte
                o += 1
                continue
            }
            out[o] = UInt8(ascii: "\\")
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out[o + 1] = byte; o += 2
            case 0x08: out[o + 1] = UInt8(ascii: "b"); o += 2
            case 0x09: out[o + 1] = UInt8(ascii: "t"); o += 2
            case 0x0A: out[o + 1] = UInt8(ascii: "n"); o += 2
            case 0x0C: out[o + 1] = UInt8(ascii: "f"); o += 2
            case 0x0D: out[o + 1] = UInt8(ascii: "r"); o += 2
            default:
                out[o + 1] = UInt8(ascii: "u")
                out[o + 2] = UInt8(ascii: "0")
                out[o + 3] = UInt8(ascii: "0")
                out[o + 4] = hex.utf8Start[Int(byte >> 4)]
                out[o + 5] = hex.utf8Start[Int(byte & 0xF)]
                o += 6
            }
        }
        return o
    }

    /// `"<s escaped>"` appended to `bytes`.
    static func appendString(_ s: String, to bytes: inout [UInt8]) {
        var s = s
        s.withUTF8 { utf8 in
            let needed = escapedCount(utf8) + 2
            if needed == utf8.count + 2 {  // nothing to escape, the usual case: one copy
                bytes.append(UInt8(ascii: "\""))
                bytes.append(contentsOf: utf8)
                bytes.append(UInt8(ascii: "\""))
                return
            }
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: needed))
            bytes.withUnsafeMutableBufferPointer { out in
                out[start] = UInt8(ascii: "\"")
                _ = writeEscaped(utf8, to: out.baseAddress! + start + 1)
                out[start + needed - 1] = UInt8(ascii: "\"")
            }
        }
    }

    static func append(_ raw: StaticString, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: raw.utf8Start, count: raw.utf8CodeUnitCount))
    }

    /// `json` without insignificant whitespace (it must be valid JSON).
    static func minified(_ json: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(json.utf8.count)
        var inString = false
        var escaped = false
        for byte in json.utf8 {
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: " ") || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                continue
            } else {
                if byte == UInt8(ascii: "\"") { inString = true }
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Any JSON value, for plugins that pass an upstream answer through as structuredContent (and for
/// the SDK's own checks of schema literals and argument trees). Integral numbers encode as integers.
public enum AnyJSON: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([AnyJSON])
    case object([String: AnyJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AnyJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AnyJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public subscript(key: String) -> AnyJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var array: [AnyJSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var object: [String: AnyJSON]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}

/// JSON string escapes (RFC 8259 §7), shared by every JSON reader plugins carry: the SDK's own two
/// (AnyJSON.parse and the argument decoder) and format readers that need another value model.
public enum JSONEscape {
    /// The byte a one-character escape (`\n`, `\"`, ...) stands for; nil for `u` and invalid ones.
    @inline(__always)
    public static func byte(for escape: UInt8) -> UInt8? {
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escape
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// The value of the four hex digits at `start` (the caller checked there are four bytes).
    public static func hex4<Bytes: RandomAccessCollection>(_ bytes: Bytes, at start: Bytes.Index) -> UInt32?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[start + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
