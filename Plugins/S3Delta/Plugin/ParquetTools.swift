import MCPPluginSDK
import S3DeltaFormats

/// `get_parquet_metadata`: the footer of one Parquet file — schema, row groups, codecs, encodings
/// and per-column statistics — read with ranged reads of the file's tail (no data pages).
enum ParquetTools: ToolFamily {
    static let readOnly = ToolAnnotations(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true)
    static let defaultRowGroupLimit = 20
    /// Key/value metadata values (e.g. the base64 ARROW:schema) are cut to this many characters.
    static let metadataValueLimit = 200

    static let specs: [ToolSpec] = [
        ToolSpec(
            name: "get_parquet_metadata", title: "Parquet metadata",
            description:
                "Reads the footer of a Parquet file: schema (physical and logical types), row count, row groups, compression codecs, encodings and per-column statistics (min/max/null count, aggregated over row groups and per row group).",
            inputSchema: """
                {"type":"object","additionalProperties":false,"required":["path"],"properties":{
                   "source":{"type":"string","description":"Source name (optional when the tenant has one source)"},
                   "path":{"type":"string","minLength":1,"description":"File path relative to the source"},
                   "row_group_limit":{"type":"integer","minimum":0,"maximum":10000,"default":20,
                     "description":"How many row groups to detail (the per-column totals always cover all of them)"}}}
                """,
            outputSchema: """
                {"type":"object","required":["path","size","num_rows","num_row_groups","schema","columns","row_groups","row_groups_truncated"],
                 "properties":{
                   "source":{"type":["string","null"]},"path":{"type":"string"},"size":{"type":"integer"},
                   "num_rows":{"type":"integer"},"num_row_groups":{"type":"integer"},
                   "created_by":{"type":["string","null"]},"format_version":{"type":"integer"},"footer_length":{"type":"integer"},
                   "schema":{"type":"array","items":{"type":"object","required":["path","physical_type","repetition"],"properties":{
                      "path":{"type":"string"},"physical_type":{"type":"string"},"logical_type":{"type":["string","null"]},
                      "repetition":{"type":"string"},"type_length":{"type":["integer","null"]},
                      "max_definition_level":{"type":"integer"},"max_repetition_level":{"type":"integer"}}}},
                   "columns":{"type":"array","items":{"type":"object","required":["path","physical_type","codecs","encodings"],"properties":{
                      "path":{"type":"string"},"physical_type":{"type":"string"},"logical_type":{"type":["string","null"]},
                      "codecs":{"type":"array","items":{"type":"string"}},"encodings":{"type":"array","items":{"type":"string"}},
                      "compressed_size":{"type":"integer"},"uncompressed_size":{"type":"integer"},"num_values":{"type":"integer"},
                      "null_count":{"type":["integer","null"]},"min":{},"max":{},
                      "statistics_complete":{"type":"boolean","description":"every row group had min/max statistics for this column"}}}},
                   "row_groups":{"type":"array","items":{"type":"object","required":["index","num_rows","columns"],"properties":{
                      "index":{"type":"integer"},"num_rows":{"type":"integer"},"total_byte_size":{"type":"integer"},
                      "compressed_size":{"type":["integer","null"]},
                      "columns":{"type":"array","items":{"type":"object","required":["path","codec"],"properties":{
                         "path":{"type":"string"},"codec":{"type":"string"},"encodings":{"type":"array","items":{"type":"string"}},
                         "num_values":{"type":"integer"},"compressed_size":{"type":"integer"},"uncompressed_size":{"type":"integer"},
                         "null_count":{"type":["integer","null"]},"distinct_count":{"type":["integer","null"]},
                         "min":{},"max":{},"statistics_source":{"type":["string","null"],"enum":["min_value/max_value","min/max (deprecated)",null]}}}}}}},
                   "row_groups_truncated":{"type":"boolean"},
                   "key_value_metadata":{"type":"array","items":{"type":"object","required":["key"],"properties":{
                      "key":{"type":"string"},"value":{"type":["string","null"]},"value_truncated":{"type":"boolean"}}}}}}
                """,
            annotations: readOnly)
    ]

    struct Input: Decodable {
        var source: String?
        var path: String
        var row_group_limit: Int?
    }

    struct SchemaColumn: Encodable {
        var path: String
        var physical_type: String
        var logical_type: String?
        var repetition: String
        var type_length: Int?
        var max_definition_level: Int
        var max_repetition_level: Int
    }
    struct ColumnTotals: Encodable {
        var path: String
        var physical_type: String
        var logical_type: String?
        var codecs: [String]
        var encodings: [String]
        var compressed_size: Int64
        var uncompressed_size: Int64
        var num_values: Int64
        var null_count: Int64?
        var min: FormatValue?
        var max: FormatValue?
        var statistics_complete: Bool

        enum CodingKeys: String, CodingKey {
            case path, physical_type, logical_type, codecs, encodings, compressed_size, uncompressed_size, num_values
            case null_count, min, max, statistics_complete
        }
        // min/max/null_count are explicit nulls when unknown.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(physical_type, forKey: .physical_type)
            try c.encode(logical_type, forKey: .logical_type)
            try c.encode(codecs, forKey: .codecs)
            try c.encode(encodings, forKey: .encodings)
            try c.encode(compressed_size, forKey: .compressed_size)
            try c.encode(uncompressed_size, forKey: .uncompressed_size)
            try c.encode(num_values, forKey: .num_values)
            try c.encode(null_count, forKey: .null_count)
            try c.encode(min, forKey: .min)
            try c.encode(max, forKey: .max)
            try c.encode(statistics_complete, forKey: .statistics_complete)
        }
    }
    struct ChunkEntry: Encodable {
        var path: String
        var codec: String
        var encodings: [String]
        var num_values: Int64
        var compressed_size: Int64
        var uncompressed_size: Int64
        var null_count: Int64?
        var distinct_count: Int64?
        var min: FormatValue?
        var max: FormatValue?
        var statistics_source: String?

        enum CodingKeys: String, CodingKey {
            case path, codec, encodings, num_values, compressed_size, uncompressed_size, null_count, distinct_count
            case min, max, statistics_source
        }
        // Every member is emitted, unknown ones as null.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(codec, forKey: .codec)
            try c.encode(encodings, forKey: .encodings)
            try c.encode(num_values, forKey: .num_values)
            try c.encode(compressed_size, forKey: .compressed_size)
            try c.encode(uncompressed_size, forKey: .uncompressed_size)
            try c.encode(null_count, forKey: .null_count)
            try c.encode(distinct_count, forKey: .distinct_count)
            try c.encode(min, forKey: .min)
            try c.encode(max, forKey: .max)
            try c.encode(statistics_source, forKey: .statistics_source)
        }
    }
    struct RowGroupEntry: Encodable {
        var index: Int
        var num_rows: Int64
        var total_byte_size: Int64
        var compressed_size: Int64?
        var columns: [ChunkEntry]
    }
    struct KeyValue: Encodable {
        var key: String
        var value: String?
        var value_truncated: Bool
    }
    struct Result: Encodable {
        var source: String?
        var path: String
        var size: Int
        var num_rows: Int64
        var num_row_groups: Int
        var created_by: String?
        var format_version: Int
        var footer_length: Int
        var schema: [SchemaColumn]
        var columns: [ColumnTotals]
        var row_groups: [RowGroupEntry]
        var row_groups_truncated: Bool
        var key_value_metadata: [KeyValue]
    }

    static func call(_ tool: String, arguments: ToolArguments, locator: any ObjectLocator, context: ToolContext)
        async throws -> ToolResult
    {
        guard tool == "get_parquet_metadata" else { throw ToolError.unknownTool(tool) }
        let input = try arguments.decode(Input.self)
        let (store, key) = try locator.locate(source: input.source, path: input.path)
        let file: ParquetFile
        do {
            file = try await ParquetFile.open(store, key: key)
        } catch let error as ParquetError {
            throw ToolError(error.description)
        }
        let result = describe(file, source: input.source, path: input.path, rowGroupLimit: input.row_group_limit ?? defaultRowGroupLimit)
        return .structured(result, text: render(result))
    }

    /// Decoded min/max of one chunk: the exact fields when present; the deprecated ones only for
    /// types whose legacy (signed) order is the real order — not byte arrays, INT96 or unsigned ints.
    static func bounds(_ chunk: ParquetColumnChunk, _ logical: ParquetLogicalType?) -> (FormatValue, FormatValue, String)? {
        guard let s = chunk.statistics else { return nil }
        if let lo = s.minValue, let hi = s.maxValue {
            return (ParquetValueRendering.render(lo, physical: chunk.physicalType, logical: logical),
                    ParquetValueRendering.render(hi, physical: chunk.physicalType, logical: logical), "min_value/max_value")
        }
        let unsigned: Bool = if case .integer(_, false) = logical { true } else { false }
        let signedOrder = [.boolean, .int32, .int64, .float, .double].contains(chunk.physicalType)
        if let lo = s.legacyMin, let hi = s.legacyMax, signedOrder, !unsigned {
            return (ParquetValueRendering.render(lo, physical: chunk.physicalType, logical: logical),
                    ParquetValueRendering.render(hi, physical: chunk.physicalType, logical: logical), "min/max (deprecated)")
        }
        return nil
    }

    static func describe(_ file: ParquetFile, source: String?, path: String, rowGroupLimit: Int) -> Result {
        let leaves = file.schema.leaves
        let schema = leaves.map { leaf in
            SchemaColumn(
                path: leaf.path.joined(separator: "."), physical_type: leaf.element.physicalType!.description,
                logical_type: leaf.element.logicalType?.description, repetition: leaf.element.repetition.description,
                type_length: leaf.element.physicalType == .fixedLenByteArray ? leaf.element.typeLength : nil,
                max_definition_level: leaf.definitionLevel, max_repetition_level: leaf.repetitionLevel)
        }
        var totals = leaves.map { leaf in
            ColumnTotals(
                path: leaf.path.joined(separator: "."), physical_type: leaf.element.physicalType!.description,
                logical_type: leaf.element.logicalType?.description, codecs: [], encodings: [], compressed_size: 0,
                uncompressed_size: 0, num_values: 0, null_count: 0, min: nil, max: nil,
                statistics_complete: !file.metadata.rowGroups.isEmpty)
        }
        var groups: [RowGroupEntry] = []
        for (g, group) in file.metadata.rowGroups.enumerated() {
            var chunks: [ChunkEntry] = []
            for (c, chunk) in group.columns.enumerated() {
                let logical = leaves[c].element.logicalType
                let b = bounds(chunk, logical)
                var t = totals[c]
                if !t.codecs.contains(chunk.codecName) { t.codecs.append(chunk.codecName) }
                for e in chunk.encodingNames where !t.encodings.contains(e) { t.encodings.append(e) }
                t.compressed_size = t.compressed_size.addingSaturating(chunk.totalCompressedSize)
                t.uncompressed_size = t.uncompressed_size.addingSaturating(chunk.totalUncompressedSize)
                t.num_values = t.num_values.addingSaturating(chunk.numValues)
                if let n = chunk.statistics?.nullCount, let sum = t.null_count { t.null_count = sum.addingSaturating(n) } else { t.null_count = nil }
                if let (lo, hi, _) = b {
                    let decimal: Bool = if case .decimal? = logical { true } else { false }
                    if t.min == nil || ValueOrder.less(lo, t.min!, decimal: decimal) { t.min = lo }
                    if t.max == nil || ValueOrder.less(t.max!, hi, decimal: decimal) { t.max = hi }
                } else if chunk.statistics?.nullCount != chunk.numValues || chunk.numValues == 0 {
                    // An all-null chunk has no bounds and needs none; any other chunk without them leaves a gap.
                    t.statistics_complete = false
                }
                totals[c] = t
                if g < rowGroupLimit {
                    chunks.append(ChunkEntry(
                        path: chunk.path.joined(separator: "."), codec: chunk.codecName, encodings: chunk.encodingNames,
                        num_values: chunk.numValues, compressed_size: chunk.totalCompressedSize,
                        uncompressed_size: chunk.totalUncompressedSize, null_count: chunk.statistics?.nullCount,
                        distinct_count: chunk.statistics?.distinctCount, min: b?.0, max: b?.1, statistics_source: b?.2))
                }
            }
            if g < rowGroupLimit {
                groups.append(RowGroupEntry(
                    index: g, num_rows: group.numRows, total_byte_size: group.totalByteSize,
                    compressed_size: group.totalCompressedSize, columns: chunks))
            }
        }
        for i in totals.indices where !totals[i].statistics_complete {
            // Bounds over part of the row groups would be misleading as file bounds.
            totals[i].min = nil
            totals[i].max = nil
        }
        let keyValues = file.metadata.keyValueMetadata.map { kv in
            let cut = kv.value.map { $0.count > metadataValueLimit } ?? false
            return KeyValue(key: kv.key, value: kv.value.map { cut ? String($0.prefix(metadataValueLimit)) : $0 }, value_truncated: cut)
        }
        return Result(
            source: source, path: path, size: file.size, num_rows: file.metadata.numRows,
            num_row_groups: file.metadata.rowGroups.count, created_by: file.metadata.createdBy,
            format_version: file.metadata.version, footer_length: file.footerLength, schema: schema, columns: totals,
            row_groups: groups, row_groups_truncated: groups.count < file.metadata.rowGroups.count,
            key_value_metadata: keyValues)
    }

    static func render(_ r: Result) -> String {
        var lines = [
            "\(r.path): \(r.num_rows) rows, \(r.num_row_groups) row group\(r.num_row_groups == 1 ? "" : "s"), \(r.columns.count) columns, \(r.size) bytes"
                + (r.created_by.map { ", written by \($0)" } ?? "")
        ]
        for c in r.columns {
            var line = "  \(c.path) \(c.physical_type)"
            if let l = c.logical_type { line += " (\(l))" }
            line += " \(c.codecs.joined(separator: "/"))"
            if let lo = c.min, let hi = c.max { line += " min=\(lo.clipped) max=\(hi.clipped)" }
            line += " nulls=\(c.null_count.map(String.init) ?? "?")"
            lines.append(line)
        }
        if r.row_groups_truncated { lines.append("  (row group details: first \(r.row_groups.count) of \(r.num_row_groups))") }
        return lines.joined(separator: "\n")
    }
}

extension FormatValue {
    /// `rendered`, cut to a length that keeps one text line per column readable.
    var clipped: String {
        let text = rendered
        return text.count <= 48 ? text : String(text.prefix(47)) + "…"
    }
}

/// Orders rendered statistic values: numbers numerically, decimals (digit strings) numerically,
/// other strings by bytes (ISO dates and timestamps of one column share a format, so byte order is
/// time order), booleans false < true.
enum ValueOrder {
    static func less(_ a: FormatValue, _ b: FormatValue, decimal: Bool) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.double(let x), .double(let y)): return x < y
        case (.int(let x), .double(let y)): return Double(x) < y
        case (.double(let x), .int(let y)): return x < Double(y)
        case (.bool(let x), .bool(let y)): return !x && y
        case (.string(let x), .string(let y)):
            if decimal, let dx = Double(x), let dy = Double(y) { return dx < dy }
            return x.utf8.lexicographicallyPrecedes(y.utf8)
        default: return false
        }
    }
}
