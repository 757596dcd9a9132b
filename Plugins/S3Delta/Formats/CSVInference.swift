#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The column types CSV metadata reports.
public enum CSVColumnType: String, Sendable, CaseIterable {
    case boolean, integer, float, date, timestamp, string
}

/// What one CSV cell looks like, as a set of the types it fits.
public struct CSVValueKinds: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let boolean = CSVValueKinds(rawValue: 1)
    public static let integer = CSVValueKinds(rawValue: 2)
    public static let float = CSVValueKinds(rawValue: 4)
    public static let date = CSVValueKinds(rawValue: 8)
    public static let timestamp = CSVValueKinds(rawValue: 16)
    public static let all: CSVValueKinds = [.boolean, .integer, .float, .date, .timestamp]
}

/// Classification of single cell values.
public enum CSVValues {
    /// Cell texts read as missing: exactly pandas' default `na_values` (so that counts agree with
    /// `pandas.read_csv(...).isna()`), plus the empty cell.
    public static let nullTokens: Set<[UInt8]> = Set(
        [
            "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL",
            "NaN", "None", "n/a", "nan", "null",
        ].map { Array($0.utf8) })
    static let longestNullToken = 8

    public static func isNullToken(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        guard v.count <= longestNullToken, v.count > 0 else { return false }
        // Only bytes that start some token are worth a set lookup.
        switch v[0] {
        case UInt8(ascii: "#"), UInt8(ascii: "-"), UInt8(ascii: "1"), UInt8(ascii: "<"), UInt8(ascii: "N"), UInt8(ascii: "n"): break
        default: return false
        }
        return nullTokens.contains(Array(v))
    }

    /// The kinds `v` (not null, not empty) fits, checking only those in `candidates`.
    public static func kinds(_ v: UnsafeBufferPointer<UInt8>, candidates: CSVValueKinds) -> CSVValueKinds {
        var result: CSVValueKinds = []
        if candidates.contains(.boolean), isBoolean(v) { result.insert(.boolean) }
        if candidates.contains(.integer), parseInteger(v) != nil {
            result.formUnion([.integer, .float])  // an integer is a float too
        } else if candidates.contains(.float), isFloat(v) {
            result.insert(.float)
        }
        if !candidates.isDisjoint(with: [.date, .timestamp]) {
            switch temporal(v) {
            case .date: result.formUnion([.date, .timestamp])  // a bare date is a midnight timestamp
            case .timestamp: result.insert(.timestamp)
            case nil: break
            }
        }
        return result.intersection(candidates)
    }

    static func isBoolean(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        // ASCII letters only differ from their lower case in bit 0x20.
        func matches(_ word: StaticString) -> Bool {
            guard v.count == word.utf8CodeUnitCount else { return false }
            let w = word.utf8Start
            for i in 0..<v.count where v[i] | 0x20 != w[i] { return false }
            return true
        }
        return matches("true") || matches("false")
    }

    /// `[+-]?[0-9]+` within Int64.
    public static func parseInteger(_ v: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if i < v.count, v[i] == UInt8(ascii: "+") || v[i] == UInt8(ascii: "-") {
            negative = v[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < v.count else { return nil }
        var value: Int64 = 0
        while i < v.count {
            let d = v[i] &- 48
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            value = s
            i += 1
        }
        return value
    }

    /// `[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`, or inf/infinity (any case, signed).
    static func isFloat(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        if i < v.count, v[i] == UInt8(ascii: "+") || v[i] == UInt8(ascii: "-") { i += 1 }
        let rest = v.count - i
        if (rest == 3 || rest == 8) && v[i] | 0x20 == UInt8(ascii: "i") {
            let word = String(decoding: UnsafeBufferPointer(rebasing: v[i...]), as: UTF8.self).lowercased()
            if word == "inf" || word == "infinity" { return true }
        }
        var digits = 0
        while i < v.count, v[i] &- 48 < 10 { i += 1; digits += 1 }
        if i < v.count, v[i] == UInt8(ascii: ".") {
            i += 1
            while i < v.count, v[i] &- 48 < 10 { i += 1; digits += 1 }
        }
        guard digits > 0 else { return false }
        if i < v.count, v[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < v.count, v[i] == UInt8(ascii: "+") || v[i] == UInt8(ascii: "-") { i += 1 }
            var exponentDigits = 0
            while i < v.count, v[i] &- 48 < 10 { i += 1; exponentDigits += 1 }
            guard exponentDigits > 0 else { return false }
        }
        return i == v.count
    }

    public static func parseDouble(_ v: UnsafeBufferPointer<UInt8>) -> Double? {
        Double(String(decoding: v, as: UTF8.self))
    }

    enum Temporal { case date, timestamp }

    /// `YYYY-MM-DD` → date; `YYYY-MM-DD[T ]HH:MM[:SS[.fraction]][Z|±HH[:]MM|±HH]` → timestamp.
    static func temporal(_ v: UnsafeBufferPointer<UInt8>) -> Temporal? {
        guard v.count >= 10 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= v.count else { return nil }
            var value = 0
            for k in from..<(from + count) {
                let d = v[k] &- 48
                guard d < 10 else { return nil }
                value = value * 10 + Int(d)
            }
            return value
        }
        guard let _ = digits(0, 4), v[4] == UInt8(ascii: "-"), let month = digits(5, 2), v[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        if v.count == 10 { return .date }
        guard v[10] == UInt8(ascii: "T") || v[10] == UInt8(ascii: " "), let hour = digits(11, 2), hour < 24,
            v.count > 13, v[13] == UInt8(ascii: ":"), let minute = digits(14, 2), minute < 60
        else { return nil }
        var i = 16
        if i < v.count, v[i] == UInt8(ascii: ":") {
            guard let second = digits(i + 1, 2), second <= 60 else { return nil }
            i += 3
            if i < v.count, v[i] == UInt8(ascii: ".") || v[i] == UInt8(ascii: ",") {
                i += 1
                let start = i
                while i < v.count, v[i] &- 48 < 10 { i += 1 }
                guard i > start else { return nil }
            }
        }
        if i == v.count { return .timestamp }
        if v[i] == UInt8(ascii: "Z") { return i + 1 == v.count ? .timestamp : nil }
        guard v[i] == UInt8(ascii: "+") || v[i] == UInt8(ascii: "-"), let _ = digits(i + 1, 2) else { return nil }
        i += 3
        if i == v.count { return .timestamp }
        if v[i] == UInt8(ascii: ":") { i += 1 }
        guard let _ = digits(i, 2), i + 2 == v.count else { return nil }
        return .timestamp
    }
}

/// Running statistics of one column: null/empty counts, the types every non-null value fits,
/// min/max for numbers and times, and a few distinct sample values.
public struct CSVColumnProfile: Sendable {
    public var name: String
    public var nullCount = 0
    public var emptyCount = 0
    public var nonNullCount = 0
    /// Types every non-null value seen so far fits.
    public var kinds = CSVValueKinds.all
    public var integerMin = Int64.max
    public var integerMax = Int64.min
    public var floatMin = Double.infinity
    public var floatMax = -Double.infinity
    public var textMin: [UInt8]?
    public var textMax: [UInt8]?
    public var samples: [String] = []

    public static let sampleCount = 3
    public static let sampleLength = 80

    public init(name: String) { self.name = name }

    /// Records one cell.
    public mutating func add(_ v: UnsafeBufferPointer<UInt8>) {
        if v.isEmpty {
            emptyCount += 1
            nullCount += 1
            return
        }
        if CSVValues.isNullToken(v) {
            nullCount += 1
            return
        }
        nonNullCount += 1
        if samples.count < Self.sampleCount {
            var text = String(decoding: v, as: UTF8.self)
            if text.count > Self.sampleLength { text = String(text.prefix(Self.sampleLength)) + "…" }
            if !samples.contains(text) { samples.append(text) }
        }
        guard !kinds.isEmpty else { return }  // already a string column: nothing more to learn
        let fits = CSVValues.kinds(v, candidates: kinds)
        kinds = fits
        if fits.contains(.integer), let value = CSVValues.parseInteger(v) {
            integerMin = min(integerMin, value)
            integerMax = max(integerMax, value)
        }
        if fits.contains(.float), !fits.contains(.integer), let value = CSVValues.parseDouble(v) {
            floatMin = min(floatMin, value)
            floatMax = max(floatMax, value)
        } else if fits.contains(.float), let value = CSVValues.parseInteger(v) {
            floatMin = min(floatMin, Double(value))
            floatMax = max(floatMax, Double(value))
        }
        if !fits.isDisjoint(with: [.date, .timestamp]) {
            if textMin.map({ Self.compare(v, $0) < 0 }) ?? true { textMin = Array(v) }
            if textMax.map({ Self.compare(v, $0) > 0 }) ?? true { textMax = Array(v) }
        }
    }

    /// Byte-wise order (memcmp, then length): ISO dates and times sort as text.
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Int {
        b.withUnsafeBufferPointer { b in
            let common = min(a.count, b.count)
            if common > 0, let pa = a.baseAddress, let pb = b.baseAddress {
                let order = memcmp(pa, pb, common)
                if order != 0 { return Int(order) }
            }
            return a.count - b.count
        }
    }

    /// A cell missing from a short row: counted as null (pandas reads it as NaN).
    public mutating func addMissing() {
        nullCount += 1
    }

    /// The narrowest type all non-null values fit; `string` when there were none.
    public var type: CSVColumnType {
        if nonNullCount == 0 { return .string }
        if kinds.contains(.boolean) { return .boolean }
        if kinds.contains(.integer) { return .integer }
        if kinds.contains(.float) { return .float }
        if kinds.contains(.date) { return .date }
        if kinds.contains(.timestamp) { return .timestamp }
        return .string
    }

    /// Min and max rendered for the column's type (nil for booleans, strings and empty columns).
    public var range: (min: CSVScalar, max: CSVScalar)? {
        guard nonNullCount > 0 else { return nil }
        switch type {
        case .integer: return (.integer(integerMin), .integer(integerMax))
        case .float: return (.float(floatMin), .float(floatMax))
        case .date, .timestamp:
            guard let low = textMin, let high = textMax else { return nil }
            return (.text(String(decoding: low, as: UTF8.self)), .text(String(decoding: high, as: UTF8.self)))
        case .boolean, .string: return nil
        }
    }
}

/// A min/max value.
public enum CSVScalar: Sendable, Equatable {
    case integer(Int64)
    case float(Double)
    case text(String)
}
