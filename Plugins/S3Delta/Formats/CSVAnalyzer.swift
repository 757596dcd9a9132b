/// Settings of a CSV analysis.
public struct CSVOptions: Sendable {
    /// Files up to this size are read completely and counted exactly; larger ones are sampled.
    public var exactMaxBytes: Int
    /// Bytes per read while streaming.
    public var chunkBytes = 4 << 20
    /// Bytes of each sampled range (start, middle, end) in estimate mode, and of the head sample
    /// used to detect the dialect and the header.
    public var sampleBytes = 1 << 20
    public var maxRecordBytes = 16 << 20
    /// Overrides of what is otherwise detected.
    public var dialect: CSVDialect?
    public var header: Bool?
    /// Called after each chunk of an exact scan with (bytes done, file size): reports progress,
    /// and throws to stop a scan that cannot finish in time.
    public var onProgress: (@Sendable (Int, Int) throws -> Void)?

    public init(exactMaxBytes: Int) {
        self.exactMaxBytes = exactMaxBytes
    }
}

/// What `CSVAnalyzer.metadata` reports.
public struct CSVMetadata: Sendable {
    public var sizeBytes: Int
    public var bom: Bool
    public var dialect: CSVDialect
    public var hasHeader: Bool
    /// false when the caller said whether there is a header.
    public var headerDetected: Bool
    public var columns: [CSVColumnProfile]
    public var rowCount: Int
    public var rowCountExact: Bool
    public var rowCountMethod: String
    /// Data rows whose cells the column statistics cover (all rows when exact).
    public var rowsScanned: Int
    public var bytesScanned: Int
    public var blankLines: Int
    /// Data rows whose field count differs from the header's (or the first row's).
    public var raggedRows: Int
    public var raggedFirstLines: [Int]
    public var expectedFields: Int
    public var warnings: [String]
}

/// What `CSVAnalyzer.preview` returns.
public struct CSVPreview: Sendable {
    public var sizeBytes: Int
    public var bom: Bool
    public var dialect: CSVDialect
    public var hasHeader: Bool
    public var columns: [String]
    public var rows: [[String]]
    /// More rows exist than were returned (or the byte limit cut the read short).
    public var truncated: Bool
    public var bytesRead: Int
}

/// CSV metadata and previews over any `ObjectStore`, reading in bounded ranges.
public enum CSVAnalyzer {
    public static let raggedLinesReported = 10
    static let headerSampleRecords = 1000

    /// Dialect, header, columns with inferred types and null counts, and the row count: exact by
    /// streaming the whole file when it is at most `options.exactMaxBytes`, otherwise estimated
    /// from the average record size in three sampled ranges (start, middle, end).
    public static func metadata(store: any ObjectStore, key: String, options: CSVOptions) async throws -> CSVMetadata {
        let size = try await store.head(key).size
        let headEnd = min(size, max(options.sampleBytes, 1))
        // Estimate mode: the middle and end samples are requested at once, alongside the head
        // (three round trips in parallel instead of in sequence).
        let exact = size <= options.exactMaxBytes
        let sampleRanges = exact ? [] : Self.sampleRanges(size: size, headEnd: headEnd, sample: options.sampleBytes)
        let sampleReads = sampleRanges.map { range in Task { try await store.read(key, range: range) } }
        defer { for read in sampleReads { read.cancel() } }
        let head = size == 0 ? [] : try await store.read(key, range: 0..<headEnd)
        let start = try prologue(head)
        let body = Array(head[start...])
        let wholeFileInHead = head.count >= size
        let dialect = options.dialect ?? CSVDialect.detect(body, isWholeFile: wholeFileInHead)
        let scanner = CSVScanner(delimiter: dialect.delimiter, quote: dialect.quote)
        let hasHeader = try options.header ?? detectHeader(body, scanner: scanner, isWholeFile: wholeFileInHead, startOffset: start)

        var profile = Profile(hasHeader: hasHeader, scanner: scanner)
        var warnings: [String] = []
        if exact {
            var stream = CSVRecordStream(scanner: scanner, startOffset: start, maxRecordBytes: options.maxRecordBytes)
            var offset = head.count
            _ = try stream.feed(body, final: offset >= size) { record in
                profile.add(record)
                return true
            }
            // The next chunk is read while this one is parsed: an S3 round trip or a disk read
            // overlaps the CPU work; at most two chunks are in memory.
            let chunkBytes = options.chunkBytes
            func prefetch(_ from: Int) -> Task<[UInt8], any Error> {
                Task { try await store.read(key, range: from..<min(size, from + chunkBytes)) }
            }
            var next: Task<[UInt8], any Error>? = offset < size ? prefetch(offset) : nil
            defer { next?.cancel() }
            while let current = next {
                try Task.checkCancellation()
                let chunk = try await withTaskCancellationHandler { try await current.value } onCancel: { current.cancel() }
                guard !chunk.isEmpty else { throw ObjectStoreError.failed("'\(key)' ended at byte \(offset) of \(size) while reading") }
                offset += chunk.count
                next = offset < size ? prefetch(offset) : nil
                try options.onProgress?(offset, size)
                _ = try stream.feed(chunk, final: offset >= size) { record in
                    profile.add(record)
                    return true
                }
            }
            if let line = profile.unterminatedQuoteLine {
                warnings.append("the quoted field starting on line \(line) is never closed; it runs to the end of the file")
            }
            return profile.metadata(
                size: size, bom: start > 0, dialect: dialect, hasHeader: hasHeader, headerDetected: options.header == nil,
                rowCount: profile.dataRows, exact: true, method: "exact: all \(size) bytes streamed", bytesScanned: size,
                warnings: warnings)
        }

        // Estimate: the head sample, then a middle and an end range, each cut to whole records.
        var sampledBytes = head.count
        var recordBytes = 0
        var stream = CSVRecordStream(scanner: scanner, startOffset: start, maxRecordBytes: options.maxRecordBytes)
        _ = try stream.feed(body, final: false) { record in
            let isData = profile.add(record)
            if isData { recordBytes += record.byteCount }
            return true
        }
        let headerBytes = profile.headerBytes
        let sample = options.sampleBytes
        var rangesRead = 1
        for (range, read) in zip(sampleRanges, sampleReads) {
            try Task.checkCancellation()
            let bytes = try await withTaskCancellationHandler { try await read.value } onCancel: { read.cancel() }
            sampledBytes += bytes.count
            rangesRead += 1
            // A range starts mid-record: skip to the first line break. (A quoted field with line
            // breaks can fool this; the count is an estimate and says so.)
            guard let newline = bytes.firstIndex(of: 0x0A) else { continue }
            let reachesEnd = range.upperBound >= size
            var sampleStream = CSVRecordStream(
                scanner: scanner, startOffset: range.lowerBound + newline + 1, line: 0, maxRecordBytes: options.maxRecordBytes)
            _ = try sampleStream.feed(Array(bytes[(newline + 1)...]), final: reachesEnd) { record in
                if profile.addSampled(record) { recordBytes += record.byteCount }
                return true
            }
        }
        let records = profile.dataRows
        let estimate: Int
        if records == 0 || recordBytes == 0 {
            estimate = 0
        } else {
            let average = Double(recordBytes) / Double(records)
            estimate = Int((Double(size - start - headerBytes) / average).rounded())
        }
        warnings.append("row count estimated (file larger than \(options.exactMaxBytes) bytes); column statistics cover the \(records) sampled rows")
        let method =
            "estimated: \(size - start - headerBytes) data bytes / \(records > 0 ? String(Double(recordBytes) / Double(records)) : "?") bytes per row, averaged over \(records) rows in \(rangesRead) sampled ranges of up to \(sample) bytes"
        return profile.metadata(
            size: size, bom: start > 0, dialect: dialect, hasHeader: hasHeader, headerDetected: options.header == nil, rowCount: estimate,
            exact: false, method: method, bytesScanned: sampledBytes, warnings: warnings)
    }

    /// The middle and end ranges sampled in estimate mode (the head is `0..<headEnd`); none
    /// overlaps another.
    static func sampleRanges(size: Int, headEnd: Int, sample: Int) -> [Range<Int>] {
        let tailStart = max(headEnd, size - sample)
        let middleStart = max(headEnd, size / 2 - sample / 2)
        let middleEnd = min(tailStart, middleStart + sample)
        var ranges: [Range<Int>] = []
        if middleEnd > middleStart { ranges.append(middleStart..<middleEnd) }
        if size > tailStart { ranges.append(tailStart..<size) }
        return ranges
    }

    /// The first `rows` data rows (and the header), reading at most `maxBytes` from the start.
    public static func preview(store: any ObjectStore, key: String, rows: Int, maxBytes: Int, options: CSVOptions) async throws -> CSVPreview {
        let size = try await store.head(key).size
        let head = size == 0 ? [] : try await store.read(key, range: 0..<min(size, maxBytes))
        let start = try prologue(head)
        let body = Array(head[start...])
        let whole = head.count >= size
        let dialect = options.dialect ?? CSVDialect.detect(body, isWholeFile: whole)
        let scanner = CSVScanner(delimiter: dialect.delimiter, quote: dialect.quote)
        let hasHeader = try options.header ?? detectHeader(body, scanner: scanner, isWholeFile: whole, startOffset: start)
        var header: [String]?
        var out: [[String]] = []
        var truncated = !whole
        var stream = CSVRecordStream(scanner: scanner, startOffset: start, maxRecordBytes: options.maxRecordBytes)
        _ = try stream.feed(body, final: whole) { record in
            if record.isBlank { return true }
            let values = record.fields.map { field -> String in
                var text = scanner.string(record.buffer, field)
                if text.count > 1000 { text = String(text.prefix(1000)) + "…" }
                return text
            }
            if hasHeader && header == nil {
                header = values
                return true
            }
            if out.count == rows {
                truncated = true
                return false
            }
            out.append(values)
            return true
        }
        let width = header?.count ?? out.first?.count ?? 0
        let columns = header.map(columnNames) ?? (0..<width).map { "column_\($0 + 1)" }
        return CSVPreview(
            sizeBytes: size, bom: start > 0, dialect: dialect, hasHeader: hasHeader, columns: columns, rows: out, truncated: truncated,
            bytesRead: head.count)
    }

    /// Where the text starts: after a UTF-8 BOM; UTF-16/32 byte order marks are refused.
    static func prologue(_ head: [UInt8]) throws -> Int {
        if head.starts(with: CSVText.bom) { return 3 }
        if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]) {
            throw CSVError.unsupportedEncoding("UTF-16 or UTF-32 (it starts with a byte order mark)")
        }
        return 0
    }

    /// Header names: empty ones become `column_<n>`.
    static func columnNames(_ header: [String]) -> [String] {
        header.enumerated().map { $0.element.isEmpty ? "column_\($0.offset + 1)" : $0.element }
    }

    /// Whether the sample's first record is a header. Columns whose other values share a type
    /// (number, boolean, date, time) vote: a first cell that does not fit says header, one that
    /// fits says data. Without typed columns, a first row of distinct, non-empty, untyped cells is
    /// taken as a header (pass `header` explicitly for the rare all-text file without one).
    /// `startOffset` is where `body` starts in the file (after a BOM), for error offsets.
    public static func detectHeader(_ body: [UInt8], scanner: CSVScanner, isWholeFile: Bool, startOffset: Int = 0) throws -> Bool {
        var candidate: [[UInt8]]?
        var profiles: [CSVColumnProfile] = []
        var seen = 0
        var stream = CSVRecordStream(scanner: scanner, startOffset: startOffset)
        var scratch: [UInt8] = []
        _ = try stream.feed(body, final: isWholeFile) { record in
            if record.isBlank { return true }
            if candidate == nil {
                candidate = record.fields.map { field in scanner.withValue(record.buffer, field, scratch: &scratch) { Array($0) } }
                profiles = (0..<record.fields.count).map { CSVColumnProfile(name: "column_\($0 + 1)") }
                return true
            }
            for (index, field) in record.fields.enumerated() where index < profiles.count {
                scanner.withValue(record.buffer, field, scratch: &scratch) { profiles[index].add($0) }
            }
            seen += 1
            return seen < headerSampleRecords
        }
        guard let candidate, !candidate.isEmpty else { return false }
        guard candidate.allSatisfy({ cell in !cell.isEmpty && !cell.withUnsafeBufferPointer(CSVValues.isNullToken) }) else { return false }
        var votes = 0
        for (index, cell) in candidate.enumerated() where index < profiles.count {
            let column = profiles[index]
            guard column.nonNullCount > 0, column.type != .string else { continue }
            let fits = cell.withUnsafeBufferPointer { CSVValues.kinds($0, candidates: column.kinds) }
            votes += fits.isEmpty ? 1 : -1
        }
        if votes != 0 { return votes > 0 }
        let typed = candidate.contains { cell in !cell.withUnsafeBufferPointer { CSVValues.kinds($0, candidates: .all) }.isEmpty }
        return !typed && Set(candidate).count == candidate.count
    }

    /// Row and column statistics accumulated record by record.
    struct Profile {
        let hasHeader: Bool
        let scanner: CSVScanner
        var columns: [CSVColumnProfile] = []
        var expectedFields = -1
        var dataRows = 0
        var blankLines = 0
        var raggedRows = 0
        var raggedFirstLines: [Int] = []
        var headerBytes = 0
        var unterminatedQuoteLine: Int?
        var scratch: [UInt8] = []

        init(hasHeader: Bool, scanner: CSVScanner) {
            self.hasHeader = hasHeader
            self.scanner = scanner
        }

        /// Takes one record of the file's beginning (header first). Returns whether it was a data row.
        @discardableResult
        mutating func add(_ record: CSVRecord) -> Bool {
            if record.isBlank {
                blankLines += 1
                return false
            }
            if record.unterminatedQuote { unterminatedQuoteLine = record.line }
            if expectedFields < 0 {
                expectedFields = record.fields.count
                if hasHeader {
                    let names = record.fields.map { scanner.string(record.buffer, $0) }
                    columns = CSVAnalyzer.columnNames(names).map { CSVColumnProfile(name: $0) }
                    headerBytes = record.byteCount
                    return false
                }
                columns = (0..<record.fields.count).map { CSVColumnProfile(name: "column_\($0 + 1)") }
            }
            addData(record, line: record.line)
            return true
        }

        /// Takes a record of a sampled range (line numbers unknown there).
        mutating func addSampled(_ record: CSVRecord) -> Bool {
            if record.isBlank { return false }
            guard expectedFields >= 0 else { return false }
            addData(record, line: nil)
            return true
        }

        private mutating func addData(_ record: CSVRecord, line: Int?) {
            dataRows += 1
            let fields = record.fields
            if fields.count != expectedFields {
                raggedRows += 1
                if let line, raggedFirstLines.count < CSVAnalyzer.raggedLinesReported { raggedFirstLines.append(line) }
            }
            let shared = min(fields.count, columns.count)
            for index in 0..<shared {
                let field = fields[index]
                if field.quoted {
                    scanner.withValue(record.buffer, field, scratch: &scratch) { columns[index].add($0) }
                } else {
                    columns[index].add(UnsafeBufferPointer(rebasing: record.buffer[field.start..<field.end]))
                }
            }
            if shared < columns.count {
                for index in shared..<columns.count { columns[index].addMissing() }
            }
        }

        func metadata(
            size: Int, bom: Bool, dialect: CSVDialect, hasHeader: Bool, headerDetected: Bool, rowCount: Int, exact: Bool, method: String,
            bytesScanned: Int, warnings: [String]
        ) -> CSVMetadata {
            CSVMetadata(
                sizeBytes: size, bom: bom, dialect: dialect, hasHeader: hasHeader, headerDetected: headerDetected, columns: columns,
                rowCount: rowCount, rowCountExact: exact, rowCountMethod: method, rowsScanned: dataRows, bytesScanned: bytesScanned,
                blankLines: blankLines, raggedRows: raggedRows, raggedFirstLines: raggedFirstLines, expectedFields: max(0, expectedFields),
                warnings: warnings)
        }
    }
}
