import MCPPluginSDK

/// `explain_query`: how the server would run a SELECT, without running it.
///
/// `EXPLAIN` arrived in ClickHouse 20.6; older servers (Debian's 18.16 among them) answer it
/// with a syntax error. What every version offers is `DESCRIBE TABLE (<query>)`: the server
/// parses and analyses the query — unknown tables, columns, functions and type errors are
/// reported — and returns the result's columns and types, without reading any data. So the
/// tool always returns that analysis, plus the `EXPLAIN` output where the server has it.
struct Explainer: Sendable {
    let client: ClickHouseClient

    struct Input: Decodable {
        var query: String
        var kind: Kind?
    }

    enum Kind: String, Decodable {
        case plan, syntax, pipeline
    }

    struct Result: Encodable {
        var server_version: String
        /// What produced `explain`: `EXPLAIN PLAN` & co., or nothing on servers without EXPLAIN.
        var method: String
        var explain: [String]
        var result_columns: [ClickHouseClient.Answer.Column]
        var note: String?
    }

    static let outputSchema: JSONSchemaLiteral = """
        {"type":"object","properties":{
           "server_version":{"type":"string"},
           "method":{"type":"string","description":"EXPLAIN PLAN / EXPLAIN SYNTAX / EXPLAIN PIPELINE, or DESCRIBE on servers without EXPLAIN"},
           "explain":{"type":"array","items":{"type":"string"},"description":"EXPLAIN output lines (empty without EXPLAIN)"},
           "result_columns":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"type":{"type":"string"}},
                                                     "required":["name","type"]}},
           "note":{"type":"string"}},
         "required":["server_version","method","explain","result_columns"]}
        """

    func explain(_ input: Input, context: ToolContext) async throws -> ToolResult {
        // Only SELECT/WITH: the statement is wrapped as a subquery.
        try StatementGuard.check(input.query, field: "query", allowed: ["SELECT", "WITH"])
        let query = StatementGuard.withoutTrailingSemicolons(input.query).trimmingWhitespace
        async let asked = serverVersion(context: context)
        // The closing parenthesis on its own line: a trailing `-- comment` must not swallow it.
        async let described = client.query("DESCRIBE TABLE (\n\(query)\n)", context: context)
        let version = try await asked
        let columns = try await described.data.map {
            ClickHouseClient.Answer.Column(name: Catalog.string($0, 0), type: Catalog.string($0, 1))
        }
        let kind = input.kind ?? .plan
        let result: Result
        if Self.hasExplain(version) {
            let method = "EXPLAIN \(kind.rawValue.uppercased())"
            let answer = try await client.query("\(method)\n\(query)", context: context)
            // One row per line, except EXPLAIN SYNTAX, which returns the query in one multi-line row.
            let lines = answer.data.flatMap {
                Catalog.string($0, 0).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
            result = Result(server_version: version, method: method, explain: lines, result_columns: columns)
        } else {
            result = Result(
                server_version: version, method: "DESCRIBE", explain: [], result_columns: columns,
                note: "ClickHouse \(version) has no EXPLAIN (it arrived in 20.6): the query was parsed and analysed without"
                    + " running it, and its result columns are listed")
        }
        var lines = ["ClickHouse \(result.server_version), \(result.method)"]
        lines += result.explain
        if let note = result.note { lines.append(note) }
        lines.append("result columns: " + columns.map { "\($0.name) \($0.type)" }.joined(separator: ", "))
        return .structured(result, text: lines.joined(separator: "\n"))
    }

    private func serverVersion(context: ToolContext) async throws -> String {
        let answer = try await client.query("SELECT version()", context: context)
        return Catalog.string(answer.data.first, 0)
    }

    /// `EXPLAIN` exists from 20.6 on.
    static func hasExplain(_ version: String) -> Bool {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else { return false }
        return parts[0] > 20 || (parts[0] == 20 && parts[1] >= 6)
    }
}
