/// Footer statistics are raw PLAIN bytes; this turns them into readable values using the column's
/// physical and logical type (dates and timestamps as ISO 8601, decimals scaled, unsigned integers
/// as unsigned, strings as text, other bytes as hex).
public enum ParquetValueRendering {
    public static func render(_ bytes: [UInt8], physical: ParquetPhysicalType, logical: ParquetLogicalType?) -> FormatValue {
        switch physical {
        case .boolean:
            return bytes.first.map { .bool($0 & 1 == 1) } ?? .null
        case .int32:
            guard bytes.count >= 4 else { return hex(bytes) }
            let raw = UInt32(truncatingIfNeeded: littleEndian(bytes, 0, 4))
            let value = Int64(Int32(bitPattern: raw))
            switch logical {
            case .date: return .string(isoDate(days: value))
            case .decimal(let scale, _): return .string(scaled(String(value), scale: scale))
            case .integer(_, false): return .int(Int64(raw))
            case .time: return .string(timeOfDay(micros: value * 1000))
            default: return .int(value)
            }
        case .int64:
            guard bytes.count >= 8 else { return hex(bytes) }
            let raw = littleEndian(bytes, 0, 8)
            let value = Int64(bitPattern: raw)
            switch logical {
            case .timestamp(let unit, _):
                switch unit {
                case "MILLIS": return .string(isoTimestamp(milliseconds: value))
                case "NANOS": return .string(isoTimestamp(micros: value / 1000, fractionDigits: 6))
                default: return .string(isoTimestamp(micros: value, fractionDigits: 6))
                }
            case .time(let unit, _):
                return .string(timeOfDay(micros: unit == "NANOS" ? value / 1000 : value))
            case .decimal(let scale, _): return .string(scaled(String(value), scale: scale))
            case .integer(_, false): return raw <= UInt64(Int64.max) ? .int(Int64(raw)) : .string(String(raw))
            default: return .int(value)
            }
        case .int96:
            // Legacy Impala/Spark timestamp: nanoseconds of the day, then the Julian day number.
            guard bytes.count == 12 else { return hex(bytes) }
            let nanos = Int64(bitPattern: littleEndian(bytes, 0, 8))
            let julian = Int64(littleEndian(bytes, 8, 4))
            let (dayMicros, overflow) = (julian - 2_440_588).multipliedReportingOverflow(by: 86_400_000_000)
            guard !overflow, nanos >= 0, nanos < 86_400_000_000_000 else { return hex(bytes) }
            return .string(isoTimestamp(micros: dayMicros + nanos / 1000, fractionDigits: 6))
        case .float:
            guard bytes.count >= 4 else { return hex(bytes) }
            return .double(Double(Float(bitPattern: UInt32(littleEndian(bytes, 0, 4)))))
        case .double:
            guard bytes.count >= 8 else { return hex(bytes) }
            return .double(Double(bitPattern: littleEndian(bytes, 0, 8)))
        case .byteArray, .fixedLenByteArray:
            switch logical {
            // Decimals need at most 16 bytes (precision 38); longer ones are corrupt and shown as hex.
            case .decimal(let scale, _) where bytes.count <= 32: return .string(scaled(bigEndianSigned(bytes), scale: scale))
            case .uuid where bytes.count == 16:
                let h = bytes.map(hexByte).joined()
                let p = Array(h)
                return .string(String(p[0..<8]) + "-" + String(p[8..<12]) + "-" + String(p[12..<16]) + "-" + String(p[16..<20]) + "-" + String(p[20...]))
            case .float16 where bytes.count == 2:
                return .double(Double(Float16(bitPattern: UInt16(bytes[0]) | UInt16(bytes[1]) << 8)))
            case .string, .enumeration, .json:
                return .string(String(decoding: bytes, as: UTF8.self))
            default:
                if physical == .byteArray, logical == nil, let text = String(validating: bytes, as: UTF8.self) { return .string(text) }
                return hex(bytes)
            }
        }
    }

    /// A decoded column value (record assembly) with its logical type applied, the way Delta's
    /// JSON statistics would spell it: dates `YYYY-MM-DD`, timestamps ISO 8601 UTC, decimals as
    /// digit strings; other values unchanged.
    public static func render(_ value: ParquetPrimitive, physical: ParquetPhysicalType, logical: ParquetLogicalType?) -> FormatValue {
        switch (value, logical) {
        case (.bool(let b), _): return .bool(b)
        case (.double(let d), _): return .double(d)
        case (.int(let days), .date?): return .string(isoDate(days: days))
        case (.int(let v), .timestamp(let unit, _)?):
            switch unit {
            case "MILLIS": return .string(isoTimestamp(milliseconds: v))
            case "NANOS": return .string(isoTimestamp(micros: v / 1000, fractionDigits: 6))
            default: return .string(isoTimestamp(micros: v, fractionDigits: 6))
            }
        case (.int(let v), .decimal(let scale, _)?): return .string(scaled(String(v), scale: scale))
        case (.int(let v), .integer(64, false)?) where v < 0: return .string(String(UInt64(bitPattern: v)))
        case (.int(let v), .integer(32, false)?): return .int(Int64(UInt32(truncatingIfNeeded: v)))
        case (.int(let v), _): return .int(v)
        case (.bytes(let b), _):
            if physical == .int96 || logical != nil && logical != .string && logical != .enumeration && logical != .json {
                return render(b, physical: physical, logical: logical)
            }
            // Delta checkpoints annotate strings; an unannotated but valid UTF-8 value is read as text too.
            if let s = String(validating: b, as: UTF8.self) { return .string(s) }
            return hex(b)
        }
    }

    static func hexByte(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }

    static func hex(_ bytes: [UInt8]) -> FormatValue { .string("0x" + bytes.map(hexByte).joined()) }

    static func timeOfDay(micros: Int64) -> String {
        let s = micros / 1_000_000
        func pad(_ v: Int64, _ n: Int) -> String {
            let t = String(v)
            return String(repeating: "0", count: max(0, n - t.count)) + t
        }
        return "\(pad(s / 3600, 2)):\(pad(s / 60 % 60, 2)):\(pad(s % 60, 2)).\(pad(micros % 1_000_000, 6))"
    }

    /// A decimal digit string with the point inserted `scale` digits from the right.
    static func scaled(_ digits: String, scale: Int) -> String {
        guard scale > 0 else { return digits }
        let negative = digits.hasPrefix("-")
        var magnitude = negative ? String(digits.dropFirst()) : digits
        if magnitude.count <= scale { magnitude = String(repeating: "0", count: scale - magnitude.count + 1) + magnitude }
        let split = magnitude.index(magnitude.endIndex, offsetBy: -scale)
        return (negative ? "-" : "") + magnitude[..<split] + "." + magnitude[split...]
    }

    /// The decimal digits of a big-endian two's-complement integer of any width.
    static func bigEndianSigned(_ bytes: [UInt8]) -> String {
        guard let first = bytes.first else { return "0" }
        let negative = first & 0x80 != 0
        var magnitude = bytes
        if negative {
            // Two's complement: invert and add one.
            magnitude = magnitude.map { ~$0 }
            var i = magnitude.count - 1
            while i >= 0 {
                let (v, overflow) = magnitude[i].addingReportingOverflow(1)
                magnitude[i] = v
                if !overflow { break }
                i -= 1
            }
        }
        var digits: [UInt8] = []
        while magnitude.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in magnitude.indices {
                let current = remainder * 256 + Int(magnitude[i])
                magnitude[i] = UInt8(current / 10)
                remainder = current % 10
            }
            digits.append(UInt8(remainder) + 48)
        }
        let text = digits.isEmpty ? "0" : String(decoding: digits.reversed(), as: UTF8.self)
        return negative ? "-" + text : text
    }
}
