import MCPPluginSDK
import S3DeltaFormats

/// CSV results as structuredContent (the tools' outputSchemas) plus compact text.
enum CSVRendering {
    struct Column: Encodable {
        var index: Int
        var name: String
        var type: String
        var null_count: Int
        var empty_count: Int
        var non_null_count: Int
        var min: Scalar
        var max: Scalar
        var samples: [String]
    }

    /// A min/max value: number, string or null (non-finite floats as strings: JSON has no inf).
    struct Scalar: Encodable {
        var value: CSVScalar?
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch value {
            case .integer(let v)?: try c.encode(v)
            case .float(let v)? where v.isFinite: try c.encode(v)
            case .float(let v)?: try c.encode(v > 0 ? "inf" : "-inf")
            case .text(let v)?: try c.encode(v)
            case nil: try c.encodeNil()
            }
        }
        var text: String {
            switch value {
            case .integer(let v)?: String(v)
            case .float(let v)?: String(v)
            case .text(let v)?: v
            case nil: "–"
            }
        }
    }

    struct Ragged: Encodable {
        var count: Int
        var expected_fields: Int
        var first_lines: [Int]
    }

    struct Metadata: Encodable {
        var source: String
        var path: String
        var size_bytes: Int
        var encoding = "utf-8"
        var bom: Bool
        var delimiter: String
        var quote: String
        var has_header: Bool
        var header_detected: Bool
        var columns: [Column]
        var row_count: Int
        var row_count_exact: Bool
        var row_count_method: String
        var rows_scanned: Int
        var bytes_scanned: Int
        var blank_lines: Int
        var ragged_rows: Ragged
        var warnings: [String]
    }

    static func metadata(_ m: CSVMetadata, source: String, path: String) -> ToolResult {
        let columns = m.columns.enumerated().map { index, c in
            Column(
                index: index, name: c.name, type: c.type.rawValue, null_count: c.nullCount, empty_count: c.emptyCount,
                non_null_count: c.nonNullCount, min: Scalar(value: c.range?.min), max: Scalar(value: c.range?.max), samples: c.samples)
        }
        let result = Metadata(
            source: source, path: path, size_bytes: m.sizeBytes, bom: m.bom, delimiter: CSVText.name(m.dialect.delimiter),
            quote: CSVText.name(m.dialect.quote), has_header: m.hasHeader, header_detected: m.headerDetected, columns: columns,
            row_count: m.rowCount, row_count_exact: m.rowCountExact, row_count_method: m.rowCountMethod, rows_scanned: m.rowsScanned,
            bytes_scanned: m.bytesScanned, blank_lines: m.blankLines,
            ragged_rows: Ragged(count: m.raggedRows, expected_fields: m.expectedFields, first_lines: m.raggedFirstLines),
            warnings: m.warnings)
        var lines: [String] = []
        let rows = m.rowCountExact ? "\(m.rowCount) rows" : "~\(m.rowCount) rows (estimate)"
        lines.append(
            "\(path): \(m.sizeBytes) bytes, \(rows), \(columns.count) columns, delimiter '\(result.delimiter)', "
                + "quote '\(result.quote)', \(m.hasHeader ? "header" : "no header")\(m.bom ? ", BOM" : "")")
        for c in columns.prefix(100) {
            var line = "  \(c.name): \(c.type), \(c.null_count) null (\(c.empty_count) empty)"
            if c.min.value != nil { line += ", \(c.min.text) … \(c.max.text)" }
            if !c.samples.isEmpty { line += ", e.g. " + c.samples.joined(separator: " | ") }
            lines.append(line)
        }
        if columns.count > 100 { lines.append("  … \(columns.count - 100) more columns") }
        if m.raggedRows > 0 {
            lines.append(
                "ragged rows: \(m.raggedRows) (expected \(m.expectedFields) fields; first at lines \(m.raggedFirstLines.map(String.init).joined(separator: ", ")))"
            )
        }
        if m.blankLines > 0 { lines.append("blank lines skipped: \(m.blankLines)") }
        lines += m.warnings.map { "note: \($0)" }
        return .structured(result, text: lines.joined(separator: "\n"))
    }

    struct Preview: Encodable {
        var source: String
        var path: String
        var size_bytes: Int
        var delimiter: String
        var quote: String
        var has_header: Bool
        var bom: Bool
        var columns: [String]
        var rows: [[String]]
        var row_count: Int
        var truncated: Bool
        var bytes_read: Int
    }

    static func preview(_ p: CSVPreview, source: String, path: String) -> ToolResult {
        let result = Preview(
            source: source, path: path, size_bytes: p.sizeBytes, delimiter: CSVText.name(p.dialect.delimiter),
            quote: CSVText.name(p.dialect.quote), has_header: p.hasHeader, bom: p.bom, columns: p.columns, rows: p.rows,
            row_count: p.rows.count, truncated: p.truncated, bytes_read: p.bytesRead)
        func cell(_ text: String) -> String {
            var t = text.replacing("\n", with: "\\n").replacing("\r", with: "\\r")
            if t.count > 40 { t = String(t.prefix(40)) + "…" }
            return t
        }
        var lines = [p.columns.map(cell).joined(separator: " | ")]
        lines += p.rows.map { $0.map(cell).joined(separator: " | ") }
        lines.append("(\(p.rows.count) rows\(p.truncated ? "; more follow" : ""))")
        return .structured(result, text: lines.joined(separator: "\n"))
    }
}
