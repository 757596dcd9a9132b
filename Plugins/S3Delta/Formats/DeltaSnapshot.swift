import MCPPluginSDK

/// The reconciled state of a Delta table at one version, and the aggregates the metadata tool
/// reports over its active files.
public struct DeltaSnapshot: Sendable {
    public var version: Int64
    public var latestVersion: Int64
    public var protocolAction: DeltaProtocol
    public var metadata: DeltaMetadata
    public var schema: DeltaSchema
    /// Active files, sorted by path.
    public var files: [DeltaAddFile]
    public var checkpointVersion: Int64?
    public var commitsReplayed: Int
    /// Milliseconds since the epoch of the commit that produced `version`, when known.
    public var timestamp: Int64?

    public var columnMappingMode: String {
        metadata.configuration["delta.columnMapping.mode"] ?? "none"
    }

    public struct ColumnSummary: Sendable {
        public var name: String
        public var type: String
        public var isPartition: Bool
        public var min: FormatValue?
        public var max: FormatValue?
        /// nil when some active file does not report it.
        public var nullCount: Int64?
        /// Active files that reported a min/max (or were entirely null) for this column.
        public var filesWithStats: Int
    }

    public struct Summary: Sendable {
        public var fileCount: Int
        public var totalSize: Int64
        /// nil when a file lacks `numRecords` (then `rowCountKnown` is false).
        public var rowCount: Int64?
        public var filesWithoutStats: Int
        /// Rows marked deleted by deletion vectors, already subtracted from `rowCount`.
        public var deletedByDeletionVectors: Int64
        public var filesWithDeletionVectors: Int
        public var columns: [ColumnSummary]
    }

    /// Aggregates file statistics: counts and sizes, `numRecords` (minus deletion-vector
    /// cardinality), and per column min/max compared by the column's Delta type, null counts summed.
    /// Partition columns are aggregated from partition values instead of statistics.
    public func summarize() -> Summary {
        let leafColumns = schema.leafColumns
        let partitionColumns = Set(metadata.partitionColumns)
        var accumulators = leafColumns.map { ColumnAccumulator(type: $0.type) }
        var totalSize: Int64 = 0
        var rows: Int64 = 0
        var withoutStats = 0
        var deleted: Int64 = 0
        var withDV = 0
        // Partition values are keyed by physical name under column mapping.
        let partitionKey: [String: String] = Dictionary(
            uniqueKeysWithValues: leafColumns.filter { $0.path.count == 1 && partitionColumns.contains($0.path[0]) }
                .map { ($0.path[0], $0.physicalPath[0]) })
        for file in files {
            totalSize = totalSize.addingSaturating(file.size)
            if let dv = file.deletionVector {
                deleted = deleted.addingSaturating(dv.cardinality)
                withDV += 1
            }
            let stats = file.stats.flatMap { try? FormatValue.parse(Array($0.utf8)) } ?? file.statsParsed
            let numRecords = stats?["numRecords"]?.intValue
            if let numRecords { rows = rows.addingSaturating(numRecords) } else { withoutStats += 1 }
            for (i, column) in leafColumns.enumerated() {
                if column.path.count == 1, partitionColumns.contains(column.path[0]) {
                    let raw = file.partitionValues[partitionKey[column.path[0]] ?? column.path[0]] ?? nil
                    accumulators[i].addPartitionValue(raw, rows: numRecords)
                } else {
                    accumulators[i].addStats(
                        min: stats?["minValues"].flatMap { lookup($0, column.physicalPath) },
                        max: stats?["maxValues"].flatMap { lookup($0, column.physicalPath) },
                        nullCount: stats?["nullCount"].flatMap { lookup($0, column.physicalPath) }?.intValue,
                        rows: numRecords)
                }
            }
        }
        let columns = leafColumns.enumerated().map { i, column in
            ColumnSummary(
                name: column.path.joined(separator: "."), type: column.type.description,
                isPartition: column.path.count == 1 && partitionColumns.contains(column.path[0]),
                min: accumulators[i].min, max: accumulators[i].max,
                nullCount: accumulators[i].nullCountComplete ? accumulators[i].nullCount : nil,
                filesWithStats: accumulators[i].filesWithStats)
        }
        return Summary(
            fileCount: files.count, totalSize: totalSize, rowCount: withoutStats == 0 ? rows.addingSaturating(-deleted) : nil,
            filesWithoutStats: withoutStats, deletedByDeletionVectors: deleted, filesWithDeletionVectors: withDV,
            columns: columns)
    }

    func lookup(_ value: FormatValue, _ path: [String]) -> FormatValue? {
        var current = value
        for name in path {
            guard let next = current[name] else { return nil }
            current = next
        }
        return current
    }
}

/// Running min/max/null count of one column.
struct ColumnAccumulator {
    let type: DeltaType
    var min: FormatValue?
    var max: FormatValue?
    var nullCount: Int64 = 0
    var nullCountComplete = true
    var filesWithStats = 0

    init(type: DeltaType) { self.type = type }

    mutating func addStats(min lo: FormatValue?, max hi: FormatValue?, nullCount nulls: Int64?, rows: Int64?) {
        if let nulls { nullCount = nullCount.addingSaturating(nulls) } else { nullCountComplete = false }
        let allNull = nulls != nil && rows != nil && nulls == rows
        if let lo = lo.map(typed), !lo.isNull, let hi = hi.map(typed), !hi.isNull {
            filesWithStats += 1
            if min == nil || DeltaValueOrder.less(lo, min!, type) { min = lo }
            if max == nil || DeltaValueOrder.less(max!, hi, type) { max = hi }
        } else if allNull {
            filesWithStats += 1
        }
    }

    mutating func addPartitionValue(_ raw: String?, rows: Int64?) {
        filesWithStats += 1
        guard let raw else {
            if let rows { nullCount = nullCount.addingSaturating(rows) } else { nullCountComplete = false }
            return
        }
        let value = typed(.string(raw))
        if min == nil || DeltaValueOrder.less(value, min!, type) { min = value }
        if max == nil || DeltaValueOrder.less(max!, value, type) { max = value }
    }

    /// Statistics and partition values as the column's type: numbers for numeric columns (partition
    /// values are strings; a whole double may arrive as a JSON integer), strings otherwise.
    func typed(_ v: FormatValue) -> FormatValue {
        guard case .primitive(let name) = type else { return v }
        switch name {
        case "long", "integer", "short", "byte":
            if case .string(let s) = v, let i = Int64(s) { return .int(i) }
            return v
        case "float", "double":
            switch v {
            case .int(let i): return .double(Double(i))
            case .string(let s): return Double(s).map(FormatValue.double) ?? v
            default: return v
            }
        case "boolean":
            if case .string(let s) = v { return s == "true" ? .bool(true) : s == "false" ? .bool(false) : v }
            return v
        default:
            return v
        }
    }
}

/// Ordering of statistic values by Delta type.
enum DeltaValueOrder {
    static func less(_ a: FormatValue, _ b: FormatValue, _ type: DeltaType) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.bool(let x), .bool(let y)): return !x && y
        case (.string(let x), .string(let y)):
            if case .primitive(let name) = type, name == "timestamp" || name == "timestamp_ntz",
                let tx = timestampMicros(x), let ty = timestampMicros(y)
            {
                return tx < ty
            }
            if case .primitive(let name) = type, name.hasPrefix("decimal"), let dx = Double(x), let dy = Double(y) {
                return dx < dy
            }
            // Byte order, as Delta and Parquet compare strings.
            return x.utf8.lexicographicallyPrecedes(y.utf8)
        default:
            if let x = number(a), let y = number(b) { return x < y }
            return false
        }
    }

    static func number(_ v: FormatValue) -> Double? {
        switch v {
        case .int(let i): Double(i)
        case .double(let d): d
        case .string(let s): Double(s)
        default: nil
        }
    }

    /// Microseconds since the epoch of `YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z|±HH:MM]` (no zone: UTC).
    static func timestampMicros(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        func digits(_ at: Int, _ n: Int) -> Int64? {
            guard at + n <= b.count else { return nil }
            var v: Int64 = 0
            for i in at..<at + n {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard let y = digits(0, 4), let mo = digits(5, 2), let d = digits(8, 2) else { return nil }
        var seconds = CivilDate.days(year: y, month: mo, day: d) * 86_400
        var micros: Int64 = 0
        var i = 10
        if i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") {
            guard let h = digits(11, 2), let mi = digits(14, 2), let se = digits(17, 2) else { return nil }
            seconds += h * 3600 + mi * 60 + se
            i = 19
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                var scale: Int64 = 100_000
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    micros += Int64(b[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
            }
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                guard let oh = digits(i + 1, 2), let om = digits(i + 4, 2) else { return nil }
                let offset = oh * 3600 + om * 60
                seconds += b[i] == UInt8(ascii: "+") ? -offset : offset
            }
        }
        return seconds * 1_000_000 + micros
    }
}

extension Int64 {
    /// Sums of counts and sizes read from files: a corrupt log must not trap on overflow.
    public func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}

/// ISO 8601 rendering of epoch milliseconds (UTC), e.g. `2024-05-01T12:00:00.000Z`.
public func isoTimestamp(milliseconds ms: Int64) -> String {
    let (micros, overflow) = ms.multipliedReportingOverflow(by: 1000)
    return overflow ? "\(ms) ms since 1970 (out of range)" : isoTimestamp(micros: micros, fractionDigits: 3)
}

func isoTimestamp(micros: Int64, fractionDigits: Int) -> String {
    // Years 0001…9999 only: values from a corrupt file must not overflow the date arithmetic.
    guard micros >= -62_135_596_800_000_000, micros <= 253_402_300_799_999_999 else { return "\(micros) µs since 1970 (out of range)" }
    let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
    let fraction = micros - seconds * 1_000_000
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    let (y, m, d) = CivilDate.date(days: days)
    func pad(_ v: Int64, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }
    var text = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
    if fractionDigits > 0 {
        var f = fraction
        for _ in 0..<(6 - fractionDigits) { f /= 10 }
        text += "." + pad(f, fractionDigits)
    }
    return text + "Z"
}

func isoDate(days: Int64) -> String {
    guard days >= -719_162, days <= 2_932_896 else { return "\(days) days since 1970 (out of range)" }
    let (y, m, d) = CivilDate.date(days: days)
    func pad(_ v: Int64, _ n: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, n - s.count)) + s
    }
    return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
}
