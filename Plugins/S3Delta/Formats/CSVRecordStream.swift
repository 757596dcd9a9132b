/// Problems with a CSV file's bytes that stop an analysis.
public enum CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `offset` is the absolute byte offset in the file, `line` the physical line (1-based).
    case invalidUTF8(offset: Int, line: Int, byte: UInt8)
    /// One record longer than the limit: almost always a quote that is never closed.
    case recordTooLong(line: Int, limit: Int)
    case unsupportedEncoding(String)

    public var description: String {
        switch self {
        case .invalidUTF8(let offset, let line, let byte):
            return "the file is not valid UTF-8: byte \(CSVText.hex(byte)) at byte offset \(offset) (line \(line)) does not start or continue a UTF-8 character"
        case .recordTooLong(let line, let limit):
            return "the record starting at line \(line) is longer than \(limit >> 20) MiB; a quoted field is probably never closed"
        case .unsupportedEncoding(let what):
            return "the file is \(what); only UTF-8 (with or without BOM) is supported"
        }
    }
}

/// One complete record handed to a consumer: fields are spans of `buffer`, valid only during
/// the callback.
public struct CSVRecord {
    public var buffer: UnsafeBufferPointer<UInt8>
    public var fields: [CSVField]
    /// Physical line the record starts on (1-based, counting the BOM-stripped file).
    public var line: Int
    /// Bytes of the record including its terminator.
    public var byteCount: Int
    /// Absolute file offset of the record's first byte.
    public var offset: Int
    public var unterminatedQuote: Bool

    /// A blank line (no bytes before the terminator): skipped, as pandas does.
    public var isBlank: Bool { fields.count == 1 && fields[0].start == fields[0].end && !fields[0].quoted }
}

/// Feeds chunks of a file to `CSVScanner` and hands out complete records, validating UTF-8 as it
/// goes. Only an unfinished record is kept between chunks, so memory stays at one chunk plus the
/// longest record (capped by `maxRecordBytes`).
public struct CSVRecordStream {
    public let scanner: CSVScanner
    public let maxRecordBytes: Int
    public private(set) var line: Int
    private var carry: [UInt8] = []
    private var carryOffset: Int
    private var fields: [CSVField] = []

    /// `startOffset`: the file offset of the first byte fed; `line`: its physical line.
    public init(scanner: CSVScanner, startOffset: Int, line: Int = 1, maxRecordBytes: Int = 16 << 20) {
        self.scanner = scanner
        self.maxRecordBytes = maxRecordBytes
        self.line = line
        carryOffset = startOffset
    }

    /// Bytes of an unfinished record held over to the next chunk.
    public var pendingBytes: Int { carry.count }

    /// Consumes `chunk` (the bytes right after everything fed so far). `final`: no bytes follow,
    /// so the last record ends at the end of the chunk. `body` returns false to stop; then
    /// `feed` returns false and the stream must not be fed again.
    public mutating func feed(_ chunk: [UInt8], final: Bool, _ body: (CSVRecord) throws -> Bool) throws -> Bool {
        var buffer: [UInt8]
        if carry.isEmpty {
            buffer = chunk
        } else {
            carry.append(contentsOf: chunk)
            buffer = []
            swap(&buffer, &carry)
        }
        let bufferOffset = carryOffset
        var position = 0
        var proceed = true
        var fields = self.fields
        var line = self.line
        let scanner = self.scanner
        try buffer.withUnsafeBufferPointer { b in
            while position < b.count {
                guard let scan = scanner.scanRecord(b, from: position, final: final, fields: &fields) else { break }
                let bytes = UnsafeBufferPointer(rebasing: b[position..<scan.next])
                if let bad = CSVText.firstInvalidUTF8(bytes) {
                    let badLine = line + bytes[..<bad].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                    throw CSVError.invalidUTF8(offset: bufferOffset + position + bad, line: badLine, byte: bytes[bad])
                }
                let record = CSVRecord(
                    buffer: b, fields: fields, line: line, byteCount: scan.next - position, offset: bufferOffset + position,
                    unterminatedQuote: scan.unterminatedQuote)
                line += 1 + scan.embeddedNewlines
                position = scan.next
                if try !body(record) {
                    proceed = false
                    break
                }
            }
        }
        self.fields = fields
        self.line = line
        if position < buffer.count {
            carry = Array(buffer[position...])
            if carry.count > maxRecordBytes { throw CSVError.recordTooLong(line: line, limit: maxRecordBytes) }
        }
        carryOffset = bufferOffset + position
        return proceed
    }
}
