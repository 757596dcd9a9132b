import MCPPluginSDK

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `list_databases`, `list_tables` and `get_table_schema`, read from the system tables that
/// exist from ClickHouse 18.16 on (`system.databases`, `system.tables`, `system.columns`,
/// `system.parts`). Names the client sends only ever appear as escaped string literals.
struct Catalog: Sendable {
    let client: ClickHouseClient

    // MARK: - results

    struct Database: Encodable {
        var name: String
        var engine: String
    }
    struct DatabaseList: Encodable {
        var databases: [Database]
        var count: Int
    }
    struct ColumnDescription: Encodable {
        var name: String
        var type: String
        var default_kind: String?
        var default_expression: String?
        var comment: String?
        var in_primary_key: Bool
        var in_sorting_key: Bool
    }
    struct TableSummary: Encodable {
        var name: String
        var engine: String
        /// Rows and bytes on disk of the active parts (MergeTree family); absent for other engines.
        var total_rows: Int64?
        var total_bytes: Int64?
        var columns: [ColumnDescription]?
    }
    struct TablePage: Encodable {
        var database: String
        var tables: [TableSummary]
        var count: Int
        var total: Int
        var next_cursor: String?
    }
    struct TableSchema: Encodable {
        var database: String
        var table: String
        var engine: String
        var engine_full: String
        var partition_key: String
        var sorting_key: String
        var primary_key: String
        var sampling_key: String
        var create_table_query: String
        var total_rows: Int64?
        var total_bytes: Int64?
        var columns: [ColumnDescription]
    }

    static let columnSchema = """
        {"type":"object","properties":{"name":{"type":"string"},"type":{"type":"string"},"default_kind":{"type":"string"},
          "default_expression":{"type":"string"},"comment":{"type":"string"},"in_primary_key":{"type":"boolean"},
          "in_sorting_key":{"type":"boolean"}},"required":["name","type","in_primary_key","in_sorting_key"]}
        """
    static let databasesSchema: JSONSchemaLiteral = """
        {"type":"object","properties":{
           "databases":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"engine":{"type":"string"}},
                                                "required":["name","engine"]}},
           "count":{"type":"integer"}},
         "required":["databases","count"]}
        """
    static let tablesSchema = JSONSchemaLiteral("""
        {"type":"object","properties":{
           "database":{"type":"string"},
           "tables":{"type":"array","items":{"type":"object","properties":{
              "name":{"type":"string"},"engine":{"type":"string"},"total_rows":{"type":"integer"},"total_bytes":{"type":"integer"},
              "columns":{"type":"array","items":\(columnSchema)}},"required":["name","engine"]}},
           "count":{"type":"integer","description":"tables on this page"},
           "total":{"type":"integer","description":"tables matching in the database"},
           "next_cursor":{"type":"string","description":"pass as 'cursor' for the next page; absent on the last page"}},
         "required":["database","tables","count","total"]}
        """)
    static let schemaSchema = JSONSchemaLiteral("""
        {"type":"object","properties":{
           "database":{"type":"string"},"table":{"type":"string"},"engine":{"type":"string"},"engine_full":{"type":"string"},
           "partition_key":{"type":"string"},"sorting_key":{"type":"string"},"primary_key":{"type":"string"},
           "sampling_key":{"type":"string"},"create_table_query":{"type":"string"},
           "total_rows":{"type":"integer"},"total_bytes":{"type":"integer"},
           "columns":{"type":"array","items":\(columnSchema)}},
         "required":["database","table","engine","columns","create_table_query"]}
        """)

    // MARK: - tools

    func listDatabases(context: ToolContext) async throws -> ToolResult {
        let answer = try await client.query("SELECT name, engine FROM system.databases ORDER BY name", context: context)
        let databases = answer.data.map { Database(name: Self.string($0, 0), engine: Self.string($0, 1)) }
        let text = "\(databases.count) databases: " + databases.map(\.name).joined(separator: ", ")
        return .structured(DatabaseList(databases: databases, count: databases.count), text: text)
    }

    struct ListTablesInput: Decodable {
        var database: String?
        var like: String?
        var limit: Int?
        var cursor: String?
        var include_columns: Bool?
    }

    /// Where a page starts, tied to the listing it belongs to so a cursor cannot be replayed
    /// against another database or filter.
    struct Cursor: Codable, Equatable {
        var offset: Int
        var database: String
        var like: String?

        var encoded: String {
            let json = (try? JSONEncoder().encode(self)) ?? Data()
            return json.base64EncodedString().replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
        }

        init(offset: Int, database: String, like: String?) {
            self.offset = offset
            self.database = database
            self.like = like
        }

        init?(encoded: String) {
            var base64 = encoded.replacing("-", with: "+").replacing("_", with: "/")
            while base64.utf8.count % 4 != 0 { base64 += "=" }
            guard let data = Data(base64Encoded: base64), let cursor = try? JSONDecoder().decode(Cursor.self, from: data),
                cursor.offset >= 0
            else { return nil }
            self = cursor
        }
    }

    static let defaultPageSize = 50

    func listTables(_ input: ListTablesInput, context: ToolContext) async throws -> ToolResult {
        let database = input.database ?? client.settings.database
        let limit = input.limit ?? Self.defaultPageSize
        let includeColumns = input.include_columns ?? true
        let offset = try Self.startOffset(input.cursor, database: database, like: input.like)
        var filter = "database = \(Self.literal(database))"
        if let like = input.like { filter += " AND name LIKE \(Self.literal(like))" }
        async let counted = client.query("SELECT count() FROM system.tables WHERE \(filter)", context: context)
        async let paged = client.query(
            "SELECT name, engine FROM system.tables WHERE \(filter) ORDER BY name LIMIT \(offset), \(limit)", context: context)
        let total = Int(Self.int(try await counted.data.first, 0) ?? 0)
        let rows = try await paged.data
        if total == 0 { try await requireDatabase(database, context: context) }
        let names = rows.map { Self.string($0, 0) }
        let (sizes, columns) = try await details(database: database, tables: names, withColumns: includeColumns, context: context)
        let tables = rows.map { row in
            let name = Self.string(row, 0)
            return TableSummary(
                name: name, engine: Self.string(row, 1), total_rows: sizes[name]?.rows, total_bytes: sizes[name]?.bytes,
                columns: includeColumns ? columns[name] ?? [] : nil)
        }
        let end = offset + tables.count
        let next = !tables.isEmpty && end < total ? Cursor(offset: end, database: database, like: input.like).encoded : nil
        let page = TablePage(database: database, tables: tables, count: tables.count, total: total, next_cursor: next)
        return .structured(page, text: Self.render(page, offset: offset, like: input.like))
    }

    /// The offset a cursor stands for (0 without one). A cursor of another listing is refused.
    private static func startOffset(_ text: String?, database: String, like: String?) throws -> Int {
        guard let text else { return 0 }
        guard let cursor = Cursor(encoded: text) else {
            throw ToolError.invalidArguments("argument 'cursor': not a cursor returned by list_tables")
        }
        guard cursor.database == database, cursor.like == like else {
            throw ToolError.invalidArguments(
                "argument 'cursor': it continues the listing of database '\(cursor.database)'\(cursor.like.map { " LIKE '\($0)'" } ?? ""), not this one"
            )
        }
        return cursor.offset
    }

    /// `shop: tables 1–3 of 7`, then `name (engine, N rows): col Type, …` per table.
    private static func render(_ page: TablePage, offset: Int, like: String?) -> String {
        var lines = [
            page.tables.isEmpty
                ? "\(page.database): no tables\(offset > 0 ? " past \(offset)" : "")\(like.map { " matching '\($0)'" } ?? "")"
                : "\(page.database): tables \(offset + 1)–\(offset + page.count) of \(page.total)"
        ]
        for table in page.tables {
            var line = "\(table.name) (\(table.engine)"
            if let rows = table.total_rows { line += ", \(rows) rows" }
            line += ")"
            if let columns = table.columns { line += ": " + columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ") }
            lines.append(line)
        }
        if let next = page.next_cursor { lines.append("more: call again with cursor \(next)") }
        return lines.joined(separator: "\n")
    }

    struct SchemaInput: Decodable {
        var table: String
        var database: String?
    }

    func tableSchema(_ input: SchemaInput, context: ToolContext) async throws -> ToolResult {
        let database = input.database ?? client.settings.database
        let answer = try await client.query(
            """
            SELECT engine, engine_full, partition_key, sorting_key, primary_key, sampling_key, create_table_query
            FROM system.tables WHERE database = \(Self.literal(database)) AND name = \(Self.literal(input.table))
            """, context: context)
        guard let row = answer.data.first else {
            try await requireDatabase(database, context: context)
            throw ToolError("table '\(input.table)' does not exist in database '\(database)'")
        }
        let (sizes, columns) = try await details(database: database, tables: [input.table], withColumns: true, context: context)
        let schema = TableSchema(
            database: database, table: input.table, engine: Self.string(row, 0), engine_full: Self.string(row, 1),
            partition_key: Self.string(row, 2), sorting_key: Self.string(row, 3), primary_key: Self.string(row, 4),
            sampling_key: Self.string(row, 5), create_table_query: Self.string(row, 6), total_rows: sizes[input.table]?.rows,
            total_bytes: sizes[input.table]?.bytes, columns: columns[input.table] ?? [])
        var lines = ["\(database).\(input.table): \(schema.engine_full.isEmpty ? schema.engine : schema.engine_full)"]
        if let rows = schema.total_rows { lines.append("\(rows) rows, \(schema.total_bytes ?? 0) bytes on disk") }
        for column in schema.columns {
            var line = "  \(column.name) \(column.type)"
            if let kind = column.default_kind, let expression = column.default_expression { line += " \(kind) \(expression)" }
            if column.in_primary_key { line += " [primary key]" } else if column.in_sorting_key { line += " [sorting key]" }
            if let comment = column.comment { line += " -- \(comment)" }
            lines.append(line)
        }
        return .structured(schema, text: lines.joined(separator: "\n"))
    }

    // MARK: - helpers

    /// Sizes (active parts) and columns of `tables` in `database`, by table name.
    private func details(database: String, tables: [String], withColumns: Bool, context: ToolContext) async throws
        -> (sizes: [String: (rows: Int64, bytes: Int64)], columns: [String: [ColumnDescription]])
    {
        guard !tables.isEmpty else { return ([:], [:]) }
        let names = tables.map(Self.literal).joined(separator: ", ")
        let where_ = "database = \(Self.literal(database)) AND table IN (\(names))"
        async let parts = client.query(
            "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE active AND \(where_) GROUP BY table", context: context)
        var columns: [String: [ColumnDescription]] = [:]
        if withColumns {
            // No ORDER BY: system.columns lists a table's columns in definition order (18.16 has
            // no `position` column to sort by).
            let answer = try await client.query(
                """
                SELECT table, name, type, default_kind, default_expression, comment, is_in_primary_key, is_in_sorting_key
                FROM system.columns WHERE \(where_)
                """, context: context)
            for row in answer.data {
                let kind = Self.string(row, 3)
                let expression = Self.string(row, 4)
                let comment = Self.string(row, 5)
                columns[Self.string(row, 0), default: []].append(
                    ColumnDescription(
                        name: Self.string(row, 1), type: Self.string(row, 2), default_kind: kind.isEmpty ? nil : kind,
                        default_expression: expression.isEmpty ? nil : expression, comment: comment.isEmpty ? nil : comment,
                        in_primary_key: Self.int(row, 6) == 1, in_sorting_key: Self.int(row, 7) == 1))
            }
        }
        var sizes: [String: (rows: Int64, bytes: Int64)] = [:]
        for row in try await parts.data {
            sizes[Self.string(row, 0)] = (Self.int(row, 1) ?? 0, Self.int(row, 2) ?? 0)
        }
        return (sizes, columns)
    }

    /// Throws "database does not exist" when it does not.
    private func requireDatabase(_ database: String, context: ToolContext) async throws {
        let answer = try await client.query("SELECT count() FROM system.databases WHERE name = \(Self.literal(database))", context: context)
        if Self.int(answer.data.first, 0) == 0 { throw ToolError("database '\(database)' does not exist") }
    }

    /// A ClickHouse string literal: backslash escapes are live inside quotes, so both `\` and
    /// `'` are escaped.
    static func literal(_ value: String) -> String {
        "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
    }

    static func string(_ row: [AnyJSON]?, _ index: Int) -> String {
        guard let row, index < row.count else { return "" }
        return row[index].string ?? ""
    }

    /// Integers come as numbers, or as strings when 64-bit.
    static func int(_ row: [AnyJSON]?, _ index: Int) -> Int64? {
        guard let row, index < row.count else { return nil }
        switch row[index] {
        case .number(let n): return Int64(exactly: n)
        case .string(let s): return Int64(s)
        default: return nil
        }
    }
}
