import MCPPluginSDK

/// search_dashboards, get_dashboard_by_uid, get_dashboard_summary, get_dashboard_panel_queries,
/// create_dashboard, update_dashboard.
extension GrafanaPlugin {
    // MARK: inputs

    struct SearchInput: Decodable {
        var query: String?
        var tags: [String]?
        var folder_uids: [String]?
        var starred: Bool?
        var limit: Int?
        var page: Int?
    }
    struct UIDInput: Decodable {
        var uid: String
    }
    struct PanelQueriesInput: Decodable {
        var uid: String
        var panel_id: Int?
    }
    struct CreateDashboardInput: Decodable {
        var dashboard: AnyJSON
        var folder_uid: String?
        var message: String?
    }
    struct UpdateDashboardInput: Decodable {
        var dashboard: AnyJSON?
        var overwrite: Bool?
        var uid: String?
        var operations: [AnyJSON]?
        var version: Int?
        var folder_uid: String?
        var message: String?
    }

    // MARK: outputs

    struct DashboardHit: Encodable {
        var uid: String
        var title: String
        var url: String
        var tags: [String]
        var folder_uid: String?
        var folder_title: String?
    }
    struct SearchResult: Encodable {
        var dashboards: [DashboardHit]
        var count: Int
        var page: Int
        var limit: Int
    }
    struct DashboardMeta: Encodable {
        var version: Int?
        var url: String
        var slug: String?
        var folder_uid: String?
        var folder_title: String?
        var created: String?
        var updated: String?
        var created_by: String?
        var updated_by: String?
        var provisioned: Bool?
        var can_save: Bool?
    }
    struct DashboardResult: Encodable {
        var dashboard: AnyJSON
        var meta: DashboardMeta
    }
    struct FolderRef: Encodable {
        var uid: String
        var title: String
    }
    struct PanelSummary: Encodable {
        var id: Int?
        var title: String
        var type: String
        var row: String?
        var datasource: DashboardAnalysis.DatasourceRef?
        var query_count: Int
    }
    struct TimeRange: Encodable {
        var from: String
        var to: String
    }
    struct Summary: Encodable {
        var uid: String
        var title: String
        var version: Int?
        var url: String
        var folder: FolderRef?
        var tags: [String]
        var panel_count: Int
        var panels: [PanelSummary]
        var variables: [DashboardAnalysis.Variable]
        var time: TimeRange?
        var refresh: String?
        var timezone: String?

        // `folder` and `time` are always present (null when absent), as the outputSchema requires.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(uid, forKey: .uid)
            try c.encode(title, forKey: .title)
            try c.encodeIfPresent(version, forKey: .version)
            try c.encode(url, forKey: .url)
            try c.encode(folder, forKey: .folder)
            try c.encode(tags, forKey: .tags)
            try c.encode(panel_count, forKey: .panel_count)
            try c.encode(panels, forKey: .panels)
            try c.encode(variables, forKey: .variables)
            try c.encode(time, forKey: .time)
            try c.encodeIfPresent(refresh, forKey: .refresh)
            try c.encodeIfPresent(timezone, forKey: .timezone)
        }
        enum CodingKeys: String, CodingKey {
            case uid, title, version, url, folder, tags, panel_count, panels, variables, time, refresh, timezone
        }
    }
    struct PanelQueries: Encodable {
        var id: Int?
        var title: String
        var type: String
        var row: String?
        var queries: [DashboardAnalysis.Query]
    }
    struct PanelQueriesResult: Encodable {
        var uid: String
        var title: String
        var panels: [PanelQueries]
    }
    struct SaveResult: Encodable {
        var uid: String
        var id: Int?
        var url: String
        var version: Int
        var status: String
        var slug: String?
        var folder_uid: String?
        var previous_version: Int?
        var operations_applied: Int?
    }

    // MARK: read tools

    func searchDashboards(_ input: SearchInput, _ context: ToolContext) async throws -> ToolResult {
        let limit = input.limit ?? 50
        let page = input.page ?? 1
        var query: [(String, String)] = [("type", "dash-db")]
        if let text = input.query, !text.isEmpty { query.append(("query", text)) }
        for tag in input.tags ?? [] { query.append(("tag", tag)) }
        for folder in input.folder_uids ?? [] { query.append(("folderUIDs", folder)) }
        if input.starred == true { query.append(("starred", "true")) }
        query += [("limit", String(limit)), ("page", String(page))]
        let answer = try await client.send("GET", "/api/search", query: query, about: "the dashboard search", context: context)
        let hits = (answer.array ?? []).filter { $0["type"]?.string != "dash-folder" }.map { hit in
            DashboardHit(
                uid: hit["uid"]?.string ?? "", title: hit["title"]?.string ?? "", url: absoluteURL(hit["url"]?.string),
                tags: (hit["tags"]?.array ?? []).compactMap(\.string), folder_uid: hit["folderUid"]?.string,
                folder_title: hit["folderTitle"]?.string)
        }
        var text =
            hits.isEmpty
            ? "no dashboards matched"
            : "\(hits.count) dashboard(s)\(hits.count == limit ? " (page \(page) is full: ask for page \(page + 1))" : ""):"
        for hit in hits {
            text += "\n\(hit.uid)  \(hit.title)"
            if let folder = hit.folder_title { text += "  [\(folder)]" }
            if !hit.tags.isEmpty { text += "  tags: \(hit.tags.joined(separator: ", "))" }
        }
        return .structured(SearchResult(dashboards: hits, count: hits.count, page: page, limit: limit), text: text)
    }

    /// GET /api/dashboards/uid/{uid}: (dashboard, meta).
    func fetchDashboard(_ uid: String, _ context: ToolContext) async throws -> (dashboard: AnyJSON, meta: AnyJSON) {
        let answer = try await client.send(
            "GET", "/api/dashboards/uid/\(GrafanaClient.segment(uid))", about: "dashboard '\(uid)'", context: context)
        guard let dashboard = answer["dashboard"], dashboard.object != nil else {
            throw ToolError("Grafana answered without a dashboard object for '\(uid)'")
        }
        return (dashboard, answer["meta"] ?? .object([:]))
    }

    func getDashboard(_ input: UIDInput, _ context: ToolContext) async throws -> ToolResult {
        let (dashboard, meta) = try await fetchDashboard(input.uid, context)
        let info = DashboardMeta(
            version: meta["version"]?.int ?? dashboard["version"]?.int, url: absoluteURL(meta["url"]?.string), slug: meta["slug"]?.string,
            folder_uid: meta["folderUid"]?.string, folder_title: meta["folderTitle"]?.string, created: meta["created"]?.string,
            updated: meta["updated"]?.string, created_by: meta["createdBy"]?.string, updated_by: meta["updatedBy"]?.string,
            provisioned: meta["provisioned"]?.bool, can_save: meta["canSave"]?.bool)
        let header =
            "\(dashboard["title"]?.string ?? "") (uid \(input.uid)) version \(info.version.map(String.init) ?? "?")"
            + " in folder \(info.folder_title ?? "General")\n"
        return .structured(DashboardResult(dashboard: dashboard, meta: info), text: header + JSONRendering.text(dashboard))
    }

    func dashboardSummary(_ input: UIDInput, _ context: ToolContext) async throws -> ToolResult {
        let (dashboard, meta) = try await fetchDashboard(input.uid, context)
        let panels = DashboardAnalysis.panels(of: dashboard).map { panel in
            PanelSummary(
                id: panel.id, title: panel.title, type: panel.type, row: panel.row, datasource: panel.datasource,
                query_count: panel.targets.count)
        }
        let folderUID = meta["folderUid"]?.string ?? ""
        let summary = Summary(
            uid: dashboard["uid"]?.string ?? input.uid, title: dashboard["title"]?.string ?? "",
            version: meta["version"]?.int ?? dashboard["version"]?.int, url: absoluteURL(meta["url"]?.string),
            folder: folderUID.isEmpty ? nil : FolderRef(uid: folderUID, title: meta["folderTitle"]?.string ?? ""),
            tags: (dashboard["tags"]?.array ?? []).compactMap(\.string), panel_count: panels.count, panels: panels,
            variables: DashboardAnalysis.variables(of: dashboard),
            time: dashboard["time"].flatMap { t in
                guard let from = t["from"]?.string, let to = t["to"]?.string else { return nil }
                return TimeRange(from: from, to: to)
            },
            refresh: dashboard["refresh"]?.string.flatMap { $0.isEmpty ? nil : $0 },
            timezone: dashboard["timezone"]?.string.flatMap { $0.isEmpty ? nil : $0 })

        var lines = [
            "\(summary.title) (uid \(summary.uid)) v\(summary.version.map(String.init) ?? "?"), folder \(summary.folder?.title ?? "General")"
        ]
        if !summary.tags.isEmpty { lines.append("tags: \(summary.tags.joined(separator: ", "))") }
        if let time = summary.time { lines.append("time: \(time.from) to \(time.to)\(summary.refresh.map { ", refresh \($0)" } ?? "")") }
        lines.append("\(panels.count) panel(s):")
        for p in panels {
            var line = "  #\(p.id.map(String.init) ?? "?") \(p.title) [\(p.type)]"
            if let ds = p.datasource { line += " on \(ds.label)" }
            line += ", \(p.query_count) quer\(p.query_count == 1 ? "y" : "ies")"
            if let row = p.row { line += " (row \(row))" }
            lines.append(line)
        }
        if !summary.variables.isEmpty {
            lines.append("variables:")
            for v in summary.variables {
                lines.append("  $\(v.name) [\(v.type)]\(v.query.map { " \($0)" } ?? "")\(v.current.map { " = \($0)" } ?? "")")
            }
        }
        return .structured(summary, text: lines.joined(separator: "\n"))
    }

    func panelQueries(_ input: PanelQueriesInput, _ context: ToolContext) async throws -> ToolResult {
        let (dashboard, _) = try await fetchDashboard(input.uid, context)
        var panels = DashboardAnalysis.panels(of: dashboard)
        if let id = input.panel_id {
            panels = panels.filter { $0.id == id }
            guard !panels.isEmpty else {
                throw ToolError.invalidArguments("argument 'panel_id': dashboard '\(input.uid)' has no panel with id \(id)")
            }
        }
        let result = PanelQueriesResult(
            uid: input.uid, title: dashboard["title"]?.string ?? "",
            panels: panels.map {
                PanelQueries(id: $0.id, title: $0.title, type: $0.type, row: $0.row, queries: DashboardAnalysis.queries(of: $0))
            })
        var lines: [String] = []
        for panel in result.panels {
            lines.append("#\(panel.id.map(String.init) ?? "?") \(panel.title) [\(panel.type)]")
            if panel.queries.isEmpty { lines.append("  (no queries)") }
            for q in panel.queries {
                let body = q.query.isEmpty ? "(built in a visual editor: see target)" : q.query
                lines.append("  \(q.ref_id ?? "?") on \(q.datasource?.label ?? "default"): \(body)\(q.hidden == true ? " (hidden)" : "")")
            }
        }
        return .structured(result, text: lines.isEmpty ? "no panels" : lines.joined(separator: "\n"))
    }

    // MARK: write tools

    func createDashboard(_ input: CreateDashboardInput, _ context: ToolContext) async throws -> ToolResult {
        guard case .object(var model) = input.dashboard else {
            throw ToolError.invalidArguments("argument 'dashboard' must be a JSON object")
        }
        // A new dashboard: Grafana assigns id and version (an id would make it an update).
        model["id"] = AnyJSON.null
        model.removeValue(forKey: "version")
        let saved = try await save(.object(model), folderUID: input.folder_uid, message: input.message, overwrite: false, context: context)
        return .structured(
            saved, text: "created dashboard '\(model["title"]?.string ?? "")' (uid \(saved.uid)) version \(saved.version): \(saved.url)")
    }

    func updateDashboard(_ input: UpdateDashboardInput, _ context: ToolContext) async throws -> ToolResult {
        if let full = input.dashboard {
            guard input.uid == nil, input.operations == nil else {
                throw ToolError.invalidArguments("give either 'dashboard' (full mode) or 'uid' with 'operations' (patch mode), not both")
            }
            guard input.version == nil else {
                throw ToolError.invalidArguments("argument 'version' is for patch mode: in full mode put it in 'dashboard.version'")
            }
            guard case .object = full else { throw ToolError.invalidArguments("argument 'dashboard' must be a JSON object") }
            guard let uid = full["uid"]?.string, !uid.isEmpty else {
                throw ToolError.invalidArguments(
                    "argument 'dashboard.uid' is required: update_dashboard changes an existing dashboard (create_dashboard makes a new one)"
                )
            }
            // Read first: an unknown uid is "Dashboard not found" rather than a new dashboard, and the
            // dashboard stays in its folder unless folder_uid moves it.
            let (_, meta) = try await fetchDashboard(uid, context)
            var saved = try await save(
                full, folderUID: input.folder_uid ?? meta["folderUid"]?.string, message: input.message, overwrite: input.overwrite ?? false,
                context: context)
            saved.previous_version = meta["version"]?.int
            return .structured(
                saved, text: "saved dashboard '\(full["title"]?.string ?? "")' (uid \(saved.uid)) version \(saved.version): \(saved.url)")
        }
        guard let uid = input.uid else {
            throw ToolError.invalidArguments("give 'dashboard' (full mode) or 'uid' with 'operations' (patch mode)")
        }
        guard let operations = input.operations else {
            throw ToolError.invalidArguments("argument 'operations' is required with 'uid' (patch mode)")
        }
        guard input.overwrite == nil else {
            throw ToolError.invalidArguments(
                "argument 'overwrite' is for full mode: patch mode saves against the version it read (or 'version')")
        }
        let patch = try DashboardPatch(operations)
        let (current, meta) = try await fetchDashboard(uid, context)
        var patched = try patch.apply(to: current)
        if let version = input.version, case .object(var model) = patched {
            // Saved with the caller's version, Grafana itself refuses it (412 version-mismatch)
            // when the dashboard changed since the caller read it.
            model["version"] = .number(Double(version))
            patched = .object(model)
        }
        var saved = try await save(
            patched, folderUID: input.folder_uid ?? meta["folderUid"]?.string, message: input.message, overwrite: false, context: context)
        saved.previous_version = meta["version"]?.int ?? current["version"]?.int
        saved.operations_applied = patch.operations.count
        return .structured(
            saved,
            text: "patched dashboard '\(patched["title"]?.string ?? "")' (uid \(saved.uid)) with \(patch.operations.count) operation(s): "
                + "version \(saved.previous_version.map(String.init) ?? "?") → \(saved.version): \(saved.url)")
    }

    /// POST /api/dashboards/db.
    private func save(_ dashboard: AnyJSON, folderUID: String?, message: String?, overwrite: Bool, context: ToolContext) async throws
        -> SaveResult
    {
        var body: [String: AnyJSON] = ["dashboard": dashboard, "overwrite": .bool(overwrite)]
        if let folderUID { body["folderUid"] = .string(folderUID) }
        if let message { body["message"] = .string(message) }
        let title = dashboard["title"]?.string ?? ""
        let answer = try await client.send(
            "POST", "/api/dashboards/db", body: .json(.object(body)), about: "saving dashboard '\(title)'", context: context)
        guard let uid = answer["uid"]?.string, let version = answer["version"]?.int else {
            throw ToolError("Grafana saved the dashboard but answered without uid/version: \(JSONRendering.text(answer, limit: 500))")
        }
        return SaveResult(
            uid: uid, id: answer["id"]?.int, url: absoluteURL(answer["url"]?.string), version: version,
            status: answer["status"]?.string ?? "success", slug: answer["slug"]?.string, folder_uid: answer["folderUid"]?.string)
    }
}
