import MCPPluginSDK
import S3DeltaFormats

/// `get_csv_metadata` and `preview_csv` (the analysis itself is `CSVAnalyzer` in the formats
/// library).
enum CSVTools: ToolFamily {
    /// preview_csv reads at most this much from the start of the file.
    static let previewMaxBytes = 1 << 20
    static let defaultPreviewRows = 10

    private static let fileArguments = """
        "source":{"type":"string","description":"Source name (optional when the tenant has one source)"},
        "path":{"type":"string","minLength":1,"description":"File path relative to the source"},
        "delimiter":{"type":"string","minLength":1,"maxLength":3,"description":"Override detection: one ASCII character, or 'tab'"},
        "quote":{"type":"string","maxLength":1,"description":"Override detection: the quote character ('' for none)"},
        "header":{"type":"boolean","description":"Override detection: whether the first row is a header"}
        """

    static let specs: [ToolSpec] = [
        ToolSpec(
            name: "get_csv_metadata", title: "CSV metadata",
            description:
                "Describes a CSV file: delimiter and quote (detected), header, columns with inferred types (integer, float, boolean, date, timestamp, string), null/empty counts, min/max and samples, and the row count — exact for files up to the tenant's limit, otherwise estimated from sampled byte ranges and labelled so (row_count_exact=false). Reports ragged rows and blank lines.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","additionalProperties":false,"required":["path"],"properties":{\(fileArguments)}}
                """),
            outputSchema: """
                {"type":"object","required":["source","path","size_bytes","delimiter","quote","has_header","columns","row_count","row_count_exact"],
                 "properties":{
                   "source":{"type":"string"},"path":{"type":"string"},"size_bytes":{"type":"integer"},
                   "encoding":{"type":"string"},"bom":{"type":"boolean"},
                   "delimiter":{"type":"string"},"quote":{"type":"string"},
                   "has_header":{"type":"boolean"},"header_detected":{"type":"boolean"},
                   "columns":{"type":"array","items":{"type":"object","required":["index","name","type","null_count","empty_count"],"properties":{
                      "index":{"type":"integer"},"name":{"type":"string"},
                      "type":{"type":"string","enum":["integer","float","boolean","date","timestamp","string"]},
                      "null_count":{"type":"integer","description":"empty cells, pandas' NA tokens (NULL, NA, NaN, ...) and cells missing from short rows"},
                      "empty_count":{"type":"integer"},"non_null_count":{"type":"integer"},
                      "min":{"type":["integer","number","string","null"]},"max":{"type":["integer","number","string","null"]},
                      "samples":{"type":"array","items":{"type":"string"}}}}},
                   "row_count":{"type":"integer","description":"data rows (header and blank lines excluded)"},
                   "row_count_exact":{"type":"boolean"},"row_count_method":{"type":"string"},
                   "rows_scanned":{"type":"integer"},"bytes_scanned":{"type":"integer"},"blank_lines":{"type":"integer"},
                   "ragged_rows":{"type":"object","properties":{"count":{"type":"integer"},"expected_fields":{"type":"integer"},
                      "first_lines":{"type":"array","items":{"type":"integer"}}}},
                   "warnings":{"type":"array","items":{"type":"string"}}}}
                """,
            annotations: SourceTools.readOnly),
        ToolSpec(
            name: "preview_csv", title: "Preview CSV",
            description:
                "The first rows of a CSV file (default 10, at most the tenant's max_preview_rows; reads at most 1 MiB), as strings, with the detected delimiter and header.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","additionalProperties":false,"required":["path"],"properties":{\(fileArguments),
                   "rows":{"type":"integer","minimum":1,"maximum":10000,"default":10}}}
                """),
            outputSchema: """
                {"type":"object","required":["source","path","columns","rows","truncated"],"properties":{
                   "source":{"type":"string"},"path":{"type":"string"},"size_bytes":{"type":"integer"},
                   "delimiter":{"type":"string"},"quote":{"type":"string"},"has_header":{"type":"boolean"},"bom":{"type":"boolean"},
                   "columns":{"type":"array","items":{"type":"string"}},
                   "rows":{"type":"array","items":{"type":"array","items":{"type":"string"}}},
                   "row_count":{"type":"integer"},
                   "truncated":{"type":"boolean","description":"more rows follow (or the 1 MiB read limit was reached)"},
                   "bytes_read":{"type":"integer"}}}
                """,
            annotations: SourceTools.readOnly),
    ]

    struct FileInput: Decodable {
        var source: String?
        var path: String
        var delimiter: String?
        var quote: String?
        var header: Bool?
        var rows: Int?
    }

    static func call(_ tool: String, arguments: ToolArguments, locator: any ObjectLocator, context: ToolContext) async throws -> ToolResult {
        let input = try arguments.decode(FileInput.self)
        let settings = CallSettings.current?.settings
        var options = CSVOptions(exactMaxBytes: settings?.csvExactMaxBytes ?? Settings.defaultCSVExactMaxBytes)
        options.header = input.header
        // Estimate mode reads three samples: keep them well below what exact mode would read.
        options.sampleBytes = min(1 << 20, max(64 << 10, options.exactMaxBytes / 4))
        options.onProgress = exactScanMonitor(context: context, deadline: CallSettings.current?.deadlineUnixMilliseconds)
        options.dialect = try dialect(input)
        let (store, key) = try locator.locate(source: input.source, path: input.path)
        let sourceName = input.source ?? (locator as? Sources)?.all.first?.name ?? ""
        do {
            switch tool {
            case "get_csv_metadata":
                let metadata = try await CSVAnalyzer.metadata(store: store, key: key, options: options)
                return CSVRendering.metadata(metadata, source: sourceName, path: key)
            case "preview_csv":
                let limit = settings?.maxPreviewRows ?? Settings.defaultMaxPreviewRows
                let rows = input.rows ?? min(defaultPreviewRows, limit)
                guard rows >= 1, rows <= limit else {
                    throw ToolError.invalidArguments("argument 'rows' must be 1...\(limit) (this tenant's max_preview_rows)")
                }
                let preview = try await CSVAnalyzer.preview(store: store, key: key, rows: rows, maxBytes: previewMaxBytes, options: options)
                return CSVRendering.preview(preview, source: sourceName, path: key)
            default:
                throw ToolError.unknownTool(tool)
            }
        } catch let error as CSVError {
            throw ToolError("'\(key)': \(error.description)")
        }
    }

    /// Progress of an exact scan for the client, and a clear error instead of the host's timeout
    /// when the scan would outlive the call's deadline (checked per chunk; a second is kept to
    /// answer).
    static func exactScanMonitor(context: ToolContext, deadline: Int64?) -> @Sendable (Int, Int) throws -> Void {
        let host = PluginHost()
        return { done, total in
            context.reportProgress(Double(done), total: Double(total), message: "exact row count: \(done >> 20) of \(total >> 20) MiB read")
            if let deadline, deadline - host.nowUnixMilliseconds() < 1000 {
                throw ToolError(
                    "exact row count stopped at the call's deadline after \(done) of \(total) bytes; lower csv_exact_max_bytes to get an estimate for files this size, or raise the host's call_timeout_ms"
                )
            }
        }
    }

    /// The dialect the arguments force, if any (a missing half is filled with the default).
    static func dialect(_ input: FileInput) throws -> CSVDialect? {
        guard input.delimiter != nil || input.quote != nil else { return nil }
        var delimiter = UInt8(ascii: ",")
        if let given = input.delimiter {
            if given == "tab" || given == "\\t" {
                delimiter = 0x09
            } else if given.utf8.count == 1, let byte = given.utf8.first, byte < 0x80, byte != 0x0A, byte != 0x0D {
                delimiter = byte
            } else {
                throw ToolError.invalidArguments("argument 'delimiter': '\(given)' is not one ASCII character or 'tab'")
            }
        }
        var quote = UInt8(ascii: "\"")
        if let given = input.quote {
            if given.isEmpty {
                quote = 0
            } else if given.utf8.count == 1, let byte = given.utf8.first, byte < 0x80, byte != delimiter, byte != 0x0A, byte != 0x0D {
                quote = byte
            } else {
                throw ToolError.invalidArguments("argument 'quote': '\(given)' is not one ASCII character different from the delimiter")
            }
        }
        return CSVDialect(delimiter: delimiter, quote: quote)
    }
}
