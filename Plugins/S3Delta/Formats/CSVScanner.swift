/// One field of a scanned record: a byte span of the buffer it was scanned from. A quoted field's
/// span includes its quotes (and any bytes after the closing quote); `CSVScanner.value` turns it
/// into the field's text (quotes removed, doubled quotes undoubled).
public struct CSVField: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public var quoted: Bool

    public init(start: Int, end: Int, quoted: Bool) {
        self.start = start
        self.end = end
        self.quoted = quoted
    }
}

/// What `CSVScanner.scanRecord` found.
public struct CSVRecordScan: Sendable {
    /// Index just past the record's terminator (or the end of the buffer for a final record).
    public var next: Int
    /// Line breaks inside quoted fields (the record spans that many extra physical lines).
    public var embeddedNewlines: Int
    /// The buffer ended inside a quoted field (only reported when `final`).
    public var unterminatedQuote: Bool
}

/// RFC 4180 record scanning over bytes: fields separated by `delimiter`, records ended by
/// `\n`, `\r\n` or a lone `\r`; a field that *starts* with `quote` is quoted and may contain
/// delimiters, line breaks and doubled quotes. A quote inside an unquoted field is an ordinary
/// character, and bytes after a closing quote stay part of the field (Python's csv module
/// reads both the same way).
///
/// The scanner works on one contiguous buffer and never copies: the caller streams a file by
/// keeping the bytes of an unfinished record and prepending them to the next chunk. That keeps
/// memory bounded by chunk size + the longest record.
public struct CSVScanner: Sendable {
    public let delimiter: UInt8
    /// 0: no quoting.
    public let quote: UInt8

    public init(delimiter: UInt8, quote: UInt8) {
        self.delimiter = delimiter
        self.quote = quote
    }

    /// Scans the record starting at `start` into `fields` (cleared first). Returns nil when the
    /// buffer ends before the record does and `final` is false (more bytes are needed).
    public func scanRecord(_ b: UnsafeBufferPointer<UInt8>, from start: Int, final: Bool, fields: inout [CSVField]) -> CSVRecordScan? {
        fields.removeAll(keepingCapacity: true)
        let n = b.count
        let delimiter = self.delimiter
        let quote = self.quote
        var i = start
        var newlines = 0
        var fieldStart = i
        while true {
            var quoted = false
            if i < n, quote != 0, b[i] == quote {
                quoted = true
                i += 1
                var closed = false
                while i < n {
                    let c = b[i]
                    if c == quote {
                        if i + 1 < n {
                            if b[i + 1] == quote {
                                i += 2
                                continue
                            }
                        } else if !final {
                            return nil  // cannot tell a closing quote from the first of a pair yet
                        }
                        i += 1
                        closed = true
                        break
                    }
                    if c == 0x0A { newlines += 1 }
                    i += 1
                }
                if !closed {
                    guard final else { return nil }
                    fields.append(CSVField(start: fieldStart, end: n, quoted: true))
                    return CSVRecordScan(next: n, embeddedNewlines: newlines, unterminatedQuote: true)
                }
            }
            // Unquoted bytes (or what follows a closing quote) up to a delimiter or line end.
            while i < n {
                let c = b[i]
                if c == delimiter {
                    break
                }
                if c == 0x0A || c == 0x0D {
                    break
                }
                i += 1
            }
            if i == n {
                guard final else { return nil }
                fields.append(CSVField(start: fieldStart, end: n, quoted: quoted))
                return CSVRecordScan(next: n, embeddedNewlines: newlines, unterminatedQuote: false)
            }
            let c = b[i]
            fields.append(CSVField(start: fieldStart, end: i, quoted: quoted))
            if c == delimiter {
                i += 1
                fieldStart = i
                continue
            }
            if c == 0x0A { return CSVRecordScan(next: i + 1, embeddedNewlines: newlines, unterminatedQuote: false) }
            // '\r': part of "\r\n", or a lone '\r' terminator; at the end of the buffer we cannot tell yet.
            if i + 1 < n {
                return CSVRecordScan(next: b[i + 1] == 0x0A ? i + 2 : i + 1, embeddedNewlines: newlines, unterminatedQuote: false)
            }
            guard final else { return nil }
            return CSVRecordScan(next: n, embeddedNewlines: newlines, unterminatedQuote: false)
        }
    }

    /// The text bytes of `field`: unquoted fields as they are; quoted ones without their quotes
    /// and with doubled quotes undoubled (written into `scratch`, which is reused).
    public func withValue<R>(
        _ b: UnsafeBufferPointer<UInt8>, _ field: CSVField, scratch: inout [UInt8], _ body: (UnsafeBufferPointer<UInt8>) throws -> R
    ) rethrows -> R {
        if !field.quoted {
            return try body(UnsafeBufferPointer(rebasing: b[field.start..<field.end]))
        }
        scratch.removeAll(keepingCapacity: true)
        var i = field.start + 1
        var inQuotes = true
        while i < field.end {
            let c = b[i]
            if inQuotes && c == quote {
                if i + 1 < field.end && b[i + 1] == quote {
                    scratch.append(quote)
                    i += 2
                    continue
                }
                inQuotes = false
                i += 1
                continue
            }
            scratch.append(c)
            i += 1
        }
        return try scratch.withUnsafeBufferPointer { try body($0) }
    }

    /// The field's text as a String (invalid UTF-8 replaced; callers validate first).
    public func string(_ b: UnsafeBufferPointer<UInt8>, _ field: CSVField) -> String {
        var scratch: [UInt8] = []
        return withValue(b, field, scratch: &scratch) { String(decoding: $0, as: UTF8.self) }
    }
}
