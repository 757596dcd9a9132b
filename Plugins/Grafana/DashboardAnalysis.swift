import MCPPluginSDK

/// Reading a classic (v1, `panels[]`) dashboard model: its panels (rows flattened), their
/// datasources and queries, and its variables. Pure functions over the JSON, so summaries and query
/// listings agree on what a panel is.
enum DashboardAnalysis {
    /// A datasource reference as panels and targets write it: `{"uid","type"}`, a legacy name string,
    /// a `${var}` string, or null (the default datasource, reported as absent).
    struct DatasourceRef: Encodable, Equatable {
        var uid: String?
        var type: String?
        var name: String?

        init?(_ json: AnyJSON?) {
            switch json {
            case .object(let members)?:
                uid = members["uid"]?.string
                type = members["type"]?.string
                if uid == nil && type == nil { return nil }
            case .string(let text)? where !text.isEmpty:
                // Before Grafana 8.3 panels named their datasource; "$ds" / "${ds}" is a variable.
                if text.hasPrefix("$") { uid = text } else { name = text }
            default:
                return nil
            }
        }

        var label: String {
            if let uid, let type { return "\(uid) (\(type))" }
            return uid ?? name ?? type ?? "default"
        }
    }

    struct Panel {
        var json: AnyJSON
        var row: String?

        var id: Int? { json["id"]?.number.map { Int($0) } }
        var title: String { json["title"]?.string ?? "" }
        var type: String { json["type"]?.string ?? "" }
        var targets: [AnyJSON] { json["targets"]?.array ?? [] }

        /// The panel's own datasource, else the first one its targets name.
        var datasource: DatasourceRef? {
            DatasourceRef(json["datasource"]) ?? targets.lazy.compactMap { DatasourceRef($0["datasource"]) }.first
        }
    }

    /// Every non-row panel in order: top-level panels, panels inside collapsed rows, and the old
    /// (pre-5.0) `rows[].panels[]` layout. `row` is the title of the row a panel sits under.
    static func panels(of dashboard: AnyJSON) -> [Panel] {
        var out: [Panel] = []
        var currentRow: String?
        for item in dashboard["panels"]?.array ?? [] {
            if item["type"]?.string == "row" {
                currentRow = item["title"]?.string ?? ""
                for nested in item["panels"]?.array ?? [] { out.append(Panel(json: nested, row: currentRow)) }
            } else {
                out.append(Panel(json: item, row: currentRow))
            }
        }
        for row in dashboard["rows"]?.array ?? [] {
            for nested in row["panels"]?.array ?? [] { out.append(Panel(json: nested, row: row["title"]?.string ?? "")) }
        }
        return out
    }

    struct Query: Encodable {
        var ref_id: String?
        /// The textual query (PromQL/LogQL `expr`, SQL `rawSql`, `query`, `expression`); "" for
        /// targets built in a visual editor, which come with `target` instead.
        var query: String
        var datasource: DatasourceRef?
        var hidden: Bool?
        var target: AnyJSON?
    }

    static func queries(of panel: Panel) -> [Query] {
        let panelSource = DatasourceRef(panel.json["datasource"])
        return panel.targets.map { target in
            let text = ["expr", "rawSql", "query", "expression", "rawQuery", "queryText"].lazy
                .compactMap { target[$0]?.string }.first { !$0.isEmpty }
            return Query(
                ref_id: target["refId"]?.string, query: text ?? "",
                datasource: DatasourceRef(target["datasource"]) ?? panelSource,
                hidden: target["hide"] == .bool(true) ? true : nil,
                target: text == nil ? target : nil)
        }
    }

    struct Variable: Encodable {
        var name: String
        var type: String
        var label: String?
        var query: String?
        var current: String?
        var datasource: DatasourceRef?
        var multi: Bool?
    }

    static func variables(of dashboard: AnyJSON) -> [Variable] {
        (dashboard["templating"]?["list"]?.array ?? []).map { v in
            // A query variable's query is a string, or an object holding one (newer datasources).
            let query = v["query"]?.string ?? v["query"]?["query"]?.string ?? v["definition"]?.string
            return Variable(
                name: v["name"]?.string ?? "", type: v["type"]?.string ?? "", label: v["label"]?.string.flatMap { $0.isEmpty ? nil : $0 },
                query: query.flatMap { $0.isEmpty ? nil : $0 }, current: currentValue(v["current"]),
                datasource: DatasourceRef(v["datasource"]), multi: v["multi"] == .bool(true) ? true : nil)
        }
    }

    /// `current.text` (or `.value`): a string, or a list for multi-value variables.
    private static func currentValue(_ current: AnyJSON?) -> String? {
        for key in ["text", "value"] {
            switch current?[key] {
            case .string(let s)?: return s
            case .array(let items)?: return items.compactMap(\.string).joined(separator: ",")
            default: continue
            }
        }
        return nil
    }
}
