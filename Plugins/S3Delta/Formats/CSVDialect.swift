/// Delimiter and quote character of a CSV file.
public struct CSVDialect: Sendable, Equatable {
    public var delimiter: UInt8
    public var quote: UInt8

    public init(delimiter: UInt8, quote: UInt8) {
        self.delimiter = delimiter
        self.quote = quote
    }

    public static let candidates: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t"), UInt8(ascii: "|")]
    public static let quoteCandidates: [UInt8] = [UInt8(ascii: "\""), UInt8(ascii: "'")]

    /// Picks the delimiter and quote that split the sample's first records most consistently:
    /// for each candidate pair, the records (up to `maxRecords`, blank lines ignored) are scanned
    /// and scored by how many have the most common field count, with a bonus when that count is
    /// above one. Ties go to the earlier candidate (`,` before `;` before tab before `|`, `"`
    /// before `'`). `isWholeFile` says whether the sample's last record is complete.
    public static func detect(_ sample: [UInt8], isWholeFile: Bool, maxRecords: Int = 200) -> CSVDialect {
        var best = CSVDialect(delimiter: UInt8(ascii: ","), quote: UInt8(ascii: "\""))
        var bestScore = -1.0
        sample.withUnsafeBufferPointer { b in
            for quote in quoteCandidates {
                // A quote character that never opens a field cannot change anything: only `"`
                // (the default) is tried then.
                if quote != UInt8(ascii: "\"") && !opensField(b, quote) { continue }
                for delimiter in candidates {
                    let score = consistency(b, CSVScanner(delimiter: delimiter, quote: quote), isWholeFile: isWholeFile, maxRecords: maxRecords)
                    if score > bestScore + 1e-9 {
                        bestScore = score
                        best = CSVDialect(delimiter: delimiter, quote: quote)
                    }
                }
            }
        }
        return best
    }

    /// Whether `quote` appears at the start of the sample or right after a candidate delimiter.
    private static func opensField(_ b: UnsafeBufferPointer<UInt8>, _ quote: UInt8) -> Bool {
        if b.first == quote { return true }
        var previous: UInt8 = 0x0A
        for c in b {
            if c == quote && (candidates.contains(previous) || previous == 0x0A || previous == 0x0D) { return true }
            previous = c
        }
        return false
    }

    private static func consistency(_ b: UnsafeBufferPointer<UInt8>, _ scanner: CSVScanner, isWholeFile: Bool, maxRecords: Int) -> Double {
        var counts: [Int: Int] = [:]
        var records = 0
        var position = 0
        var fields: [CSVField] = []
        while position < b.count && records < maxRecords {
            guard let scan = scanner.scanRecord(b, from: position, final: isWholeFile, fields: &fields) else { break }
            position = scan.next
            if scan.unterminatedQuote { return 0 }  // this quote character leaves a field open
            if fields.count == 1 && fields[0].start == fields[0].end && !fields[0].quoted { continue }  // blank line
            counts[fields.count, default: 0] += 1
            records += 1
        }
        guard records > 0, let (mode, frequency) = counts.max(by: { $0.value == $1.value ? $0.key < $1.key : $0.value < $1.value }) else {
            return 0
        }
        let share = Double(frequency) / Double(records)
        return share + (mode > 1 ? 1 : 0)
    }
}
