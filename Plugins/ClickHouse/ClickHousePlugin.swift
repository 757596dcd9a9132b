import MCPPluginSDK

/// Read-only ClickHouse tools over the server's HTTP interface (see README.md).
///
/// Per-tenant configuration (`Configuration`):
///   {"url": "http://clickhouse:8123", "user": "reader", "password_env": "CH_PASSWORD",
///    "database": "analytics", "max_rows": 1000, "max_result_bytes": 1048576, "timeout_ms": 30000}
/// The server URL and credentials come from the configuration only, never from the MCP client.
struct ClickHousePlugin: MCPPlugin {
    typealias Configuration = ClickHouseConfiguration

    static let name = "clickhouse"
    static let version = "1.0.0"
    static let configurationSchema = Configuration.schema

    /// Every tool only reads, and only from the one configured server (a closed world).
    private static let readOnly = ToolAnnotations(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)
    private static let databaseArgument = #"{"type":"string","minLength":1,"description":"Database (default: the tenant's default database)"}"#

    static let tools = [
        ToolSpec(
            name: "run_select_query", title: "Run a read-only query",
            description: """
                Runs one read-only SQL statement (SELECT, WITH, SHOW, DESCRIBE, EXISTS) and returns columns with types and rows. \
                The server enforces read-only mode. Results are capped at max_rows rows and max_result_bytes bytes; a capped result \
                says truncated=true. Do not add a FORMAT or SETTINGS clause.
                """,
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "query":{"type":"string","minLength":1,"description":"One SQL statement"},
                   "database":\(databaseArgument),
                   "max_rows":{"type":"integer","minimum":1,"description":"Fewer rows than the tenant's cap"}},
                 "required":["query"],"additionalProperties":false}
                """),
            outputSchema: ResultTable.outputSchema, annotations: readOnly),
        ToolSpec(
            name: "list_databases", title: "List databases", description: "Lists the databases with their engines.",
            inputSchema: #"{"type":"object","properties":{},"additionalProperties":false}"#,
            outputSchema: Catalog.databasesSchema, annotations: readOnly),
        ToolSpec(
            name: "list_tables", title: "List tables",
            description: """
                Lists the tables of a database in name order, a page at a time, with engine, row count (MergeTree tables) and \
                columns. Pass next_cursor back as cursor for the next page.
                """,
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "database":\(databaseArgument),
                   "like":{"type":"string","description":"SQL LIKE pattern on the table name, e.g. 'event%'"},
                   "limit":{"type":"integer","minimum":1,"maximum":500,"default":50,"description":"Tables per page"},
                   "cursor":{"type":"string","minLength":1,"description":"next_cursor of the previous page"},
                   "include_columns":{"type":"boolean","default":true}},
                 "additionalProperties":false}
                """),
            outputSchema: Catalog.tablesSchema, annotations: readOnly),
        ToolSpec(
            name: "get_table_schema", title: "Table schema",
            description: "Describes one table: engine, partition/sorting/primary keys, columns with types, defaults and comments, size, CREATE statement.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "table":{"type":"string","minLength":1},
                   "database":\(databaseArgument)},
                 "required":["table"],"additionalProperties":false}
                """),
            outputSchema: Catalog.schemaSchema, annotations: readOnly),
        ToolSpec(
            name: "explain_query", title: "Explain a query",
            description: """
                Analyses a SELECT without running it: the result columns and types, and the server's EXPLAIN output (kind plan, \
                syntax or pipeline) where the server has EXPLAIN (ClickHouse 20.6 and later).
                """,
            inputSchema: """
                {"type":"object","properties":{
                   "query":{"type":"string","minLength":1,"description":"A SELECT (or WITH … SELECT) statement"},
                   "kind":{"type":"string","enum":["plan","syntax","pipeline"],"default":"plan"}},
                 "required":["query"],"additionalProperties":false}
                """,
            outputSchema: Explainer.outputSchema, annotations: readOnly),
    ]

    let client: ClickHouseClient

    init(configuration: Configuration, host: PluginHost) throws {
        client = ClickHouseClient(settings: try ResolvedSettings(configuration), host: host)
    }

    struct QueryInput: Decodable {
        var query: String
        var database: String?
        var max_rows: Int?
    }

    func call(_ tool: String, arguments: ToolArguments, context: ToolContext) async throws -> ToolResult {
        switch tool {
        case "run_select_query":
            let input = try arguments.decode(QueryInput.self)
            let cap = client.settings.maxRows
            if let rows = input.max_rows, !(1...cap).contains(rows) {
                throw ToolError.invalidArguments("argument 'max_rows' must be between 1 and \(cap) (this tenant's cap)")
            }
            try StatementGuard.check(input.query, field: "query")
            let caps = ResultCaps(maxRows: input.max_rows ?? cap, maxBytes: client.settings.maxResultBytes)
            let answer = try await client.query(input.query, database: input.database, caps: caps, context: context)
            let table = ResultTable(answer, caps: caps)
            return .structured(table, text: table.text())
        case "list_databases":
            return try await Catalog(client: client).listDatabases(context: context)
        case "list_tables":
            return try await Catalog(client: client).listTables(try arguments.decode(Catalog.ListTablesInput.self), context: context)
        case "get_table_schema":
            return try await Catalog(client: client).tableSchema(try arguments.decode(Catalog.SchemaInput.self), context: context)
        case "explain_query":
            return try await Explainer(client: client).explain(try arguments.decode(Explainer.Input.self), context: context)
        default:
            throw ToolError.unknownTool(tool)
        }
    }
}

@_cdecl("mcp_plugin_entry")
public func mcpPluginEntry() -> UnsafeRawPointer { MCPPluginExport.descriptor(for: ClickHousePlugin.self) }
