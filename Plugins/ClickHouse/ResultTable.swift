import MCPPluginSDK

/// A query result as `run_select_query` returns it: columns with types, rows cut to the caps,
/// and a label saying whether and why rows are missing.
struct ResultTable: Encodable {
    typealias Column = ClickHouseClient.Answer.Column

    struct Statistics: Encodable {
        var elapsed_seconds: Double
        var rows_read: Double
        var bytes_read: Double
    }

    var columns: [Column]
    var rows: [[AnyJSON]]
    var row_count: Int
    var truncated: Bool
    /// `max_rows` or `max_result_bytes` when `truncated`.
    var truncated_by: String?
    var max_rows: Int
    var max_result_bytes: Int
    var statistics: Statistics?

    static let outputSchema: JSONSchemaLiteral = """
        {"type":"object","properties":{
           "columns":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"type":{"type":"string"}},
                                              "required":["name","type"]}},
           "rows":{"type":"array","items":{"type":"array"},
                   "description":"One array per row, values in column order; 64-bit integers are strings"},
           "row_count":{"type":"integer"},
           "truncated":{"type":"boolean","description":"true when the query had more rows than returned"},
           "truncated_by":{"type":"string","enum":["max_rows","max_result_bytes"]},
           "max_rows":{"type":"integer"},"max_result_bytes":{"type":"integer"},
           "statistics":{"type":"object","properties":{"elapsed_seconds":{"type":"number"},"rows_read":{"type":"number"},
                                                        "bytes_read":{"type":"number"}}}},
         "required":["columns","rows","row_count","truncated","max_rows","max_result_bytes"]}
        """

    /// Keeps rows while both caps hold. The server was asked for one row more than `maxRows`,
    /// so more rows than the cap means rows were left out.
    init(_ answer: ClickHouseClient.Answer, caps: ResultCaps) {
        columns = answer.meta
        max_rows = caps.maxRows
        max_result_bytes = caps.maxBytes
        var kept: [[AnyJSON]] = []
        var bytes = 2  // the brackets of the rows array
        var cut: String?
        for row in answer.data {
            if kept.count == caps.maxRows {
                cut = "max_rows"
                break
            }
            let size = Self.jsonSize(.array(row)) + (kept.isEmpty ? 0 : 1)  // the row and its separating comma
            if bytes + size > caps.maxBytes {
                cut = "max_result_bytes"
                break
            }
            bytes += size
            kept.append(row)
        }
        rows = kept
        row_count = kept.count
        truncated = cut != nil
        truncated_by = cut
        statistics = answer.statistics.map {
            Statistics(elapsed_seconds: $0.elapsed ?? 0, rows_read: $0.rows_read ?? 0, bytes_read: $0.bytes_read ?? 0)
        }
    }

    /// The size of `value` as compact JSON text: exact for what ClickHouse sends (strings with
    /// their escapes, integers); fractional numbers as Swift prints them, close enough for a cap.
    static func jsonSize(_ value: AnyJSON) -> Int {
        switch value {
        case .null: return 4
        case .bool(let b): return b ? 4 : 5
        case .number(let n): return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)).utf8.count : String(n).utf8.count
        case .string(let s):
            var size = 2
            for byte in s.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x09, 0x0A, 0x0C, 0x0D: size += 2
                case ..<0x20: size += 6
                default: size += 1
                }
            }
            return size
        case .array(let items): return 2 + max(0, items.count - 1) + items.reduce(0) { $0 + jsonSize($1) }
        case .object(let members):
            return 2 + max(0, members.count - 1) + members.reduce(0) { $0 + jsonSize(.string($1.key)) + 1 + jsonSize($1.value) }
        }
    }

    /// Tab-separated text: a header of `name Type`, up to `textRows` rows, and a summary line
    /// that says plainly when rows were left out.
    func text(textRows: Int = 50) -> String {
        var lines = [columns.map { "\($0.name) \($0.type)" }.joined(separator: "\t")]
        for row in rows.prefix(textRows) {
            lines.append(row.map { Self.cell($0) }.joined(separator: "\t"))
        }
        if rows.count > textRows { lines.append("… \(rows.count - textRows) more rows in structuredContent") }
        var summary = "\(row_count) row\(row_count == 1 ? "" : "s")"
        switch truncated_by {
        case "max_rows": summary += " (TRUNCATED: the query returns more than max_rows=\(max_rows); add a LIMIT or aggregate)"
        case "max_result_bytes":
            summary += " (TRUNCATED: more rows would exceed max_result_bytes=\(max_result_bytes); select fewer columns or add a LIMIT)"
        default: break
        }
        if let statistics { summary += ", \(statistics.rows_read.formattedCount) rows read in \(statistics.elapsed_seconds.formattedSeconds)" }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    /// One value for the text rendering: strings bare (tabs/newlines escaped), NULL, JSON for arrays.
    static func cell(_ value: AnyJSON, limit: Int = 120) -> String {
        var text: String
        switch value {
        case .null: text = "NULL"
        case .bool(let b): text = b ? "true" : "false"
        case .number(let n): text = n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): text = s.replacing("\\", with: "\\\\").replacing("\t", with: "\\t").replacing("\n", with: "\\n")
        case .array(let items): text = "[" + items.map { cellInContainer($0) }.joined(separator: ",") + "]"
        case .object(let members):
            text = "{" + members.sorted { $0.key < $1.key }.map { "\($0.key):\(cellInContainer($0.value))" }.joined(separator: ",") + "}"
        }
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    private static func cellInContainer(_ value: AnyJSON) -> String {
        if case .string(let s) = value { return "'" + cell(.string(s), limit: .max).replacing("'", with: "\\'") + "'" }
        return cell(value, limit: .max)
    }
}

extension Double {
    var formattedCount: String { rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : String(self) }
    var formattedSeconds: String {
        if self < 0.001 { return "\(Int((self * 1_000_000).rounded())) µs" }
        if self < 1 { return "\(Int((self * 1000).rounded())) ms" }
        return "\((self * 100).rounded() / 100) s"
    }
}
