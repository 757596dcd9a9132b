import MCPPluginSDK

/// The client-side check of a query: its first keyword must start a read-only statement.
///
/// This is a courtesy, not the guarantee — it gives a clear answer before a round trip. What
/// really keeps queries read-only is `readonly=1`, which the server enforces on every request
/// (see `ClickHouseClient`).
enum StatementGuard {
    static let readOnlyKeywords: Set<String> = ["SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN"]

    /// Refuses anything but a read-only statement; `allowed` narrows the keywords (e.g. to
    /// SELECT/WITH where a statement is wrapped as a subquery).
    static func check(_ sql: String, field: String, allowed: Set<String> = readOnlyKeywords) throws {
        guard let keyword = firstKeyword(sql) else {
            throw ToolError.invalidArguments("argument '\(field)' holds no SQL statement")
        }
        guard allowed.contains(keyword) else {
            throw ToolError.invalidArguments(
                "argument '\(field)': only read-only statements run here (\(allowed.sorted().joined(separator: ", "))); \(keyword) statements are refused"
            )
        }
    }

    /// The first word of the statement, upper-cased, after whitespace, comments (`-- …`,
    /// `/* … */`, `# …`) and opening parentheses; nil when there is none.
    static func firstKeyword(_ sql: String) -> String? {
        let bytes = Array(sql.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C || b == UInt8(ascii: "(") {
                i += 1
            } else if b == UInt8(ascii: "#") || (b == UInt8(ascii: "-") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "-")) {
                while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            } else if b == UInt8(ascii: "/"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < bytes.count, !(bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i += 2
            } else {
                break
            }
        }
        var word: [UInt8] = []
        while i < bytes.count, isWordByte(bytes[i]) {
            word.append(bytes[i])
            i += 1
        }
        if word.isEmpty {
            // Not a word (a quote, an operator): report the text that starts there.
            return i < bytes.count ? String(decoding: bytes[i...].prefix(16), as: UTF8.self) : nil
        }
        return String(decoding: word, as: UTF8.self).uppercased()
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95
    }

    /// `sql` cut after its last token that is not a semicolon: trailing `;`, whitespace and
    /// comments go, so the statement can be wrapped as a subquery. Quoted strings and
    /// identifiers are skipped whole (a `;` or `--` inside them is text).
    static func withoutTrailingSemicolons(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        var end = 0  // one past the last byte of the last token that is not ';'
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "#") || (b == UInt8(ascii: "-") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "-")) {
                while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            } else if b == UInt8(ascii: "/"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < bytes.count, !(bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i += 2
            } else if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "`") {
                i += 1
                while i < bytes.count, bytes[i] != b {
                    i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
                }
                i += 1
                end = min(i, bytes.count)
            } else {
                if !(b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C || b == UInt8(ascii: ";")) { end = i + 1 }
                i += 1
            }
        }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
