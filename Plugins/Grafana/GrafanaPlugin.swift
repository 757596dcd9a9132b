import MCPPluginSDK

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Grafana tools: dashboards (search, read, summarize, list panel queries, create, update by full
/// JSON or by patch), datasources, folders, and PromQL through a Prometheus datasource.
///
/// Per-tenant configuration (see Configuration.swift and README.md):
///   {"url": "https://grafana.example", "token_env": "GRAFANA_TOKEN" | "token_file": "/run/secrets/grafana",
///    "org_id": 2, "allow_writes": false, "timeout_ms": 15000}
/// The four write tools are refused unless the tenant sets allow_writes: the manifest is the same
/// for every tenant, so the refusal is a tool error naming the setting.
struct GrafanaPlugin: MCPPlugin {
    typealias Configuration = GrafanaConfiguration

    static let name = "grafana"
    static let version = "1.0.0"
    static let configurationSchema = GrafanaConfiguration.schema
    static let tools = GrafanaTools.all

    let client: GrafanaClient

    init(configuration: GrafanaConfiguration, host: PluginHost) throws {
        let settings = try GrafanaSettings(configuration, environment: ProcessInfo.processInfo.environment)
        client = GrafanaClient(settings: settings, host: host)
    }

    func call(_ tool: String, arguments: ToolArguments, context: ToolContext) async throws -> ToolResult {
        if GrafanaTools.writeTools.contains(tool) && !client.settings.allowWrites {
            throw ToolError(
                "\(tool) changes Grafana, and this tenant's Grafana configuration does not allow writes "
                    + "(set allow_writes: true to enable create_dashboard, update_dashboard, create_datasource and create_folder)")
        }
        switch tool {
        case "search_dashboards": return try await searchDashboards(arguments.decode(), context)
        case "get_dashboard_by_uid": return try await getDashboard(arguments.decode(), context)
        case "get_dashboard_summary": return try await dashboardSummary(arguments.decode(), context)
        case "get_dashboard_panel_queries": return try await panelQueries(arguments.decode(), context)
        case "create_dashboard": return try await createDashboard(arguments.decode(), context)
        case "update_dashboard": return try await updateDashboard(arguments.decode(), context)
        case "list_datasources": return try await listDatasources(arguments.decode(), context)
        case "get_datasource": return try await getDatasource(arguments.decode(), context)
        case "create_datasource": return try await createDatasource(arguments.decode(), context)
        case "list_folders": return try await listFolders(arguments.decode(), context)
        case "create_folder": return try await createFolder(arguments.decode(), context)
        case "query_prometheus_datasource": return try await queryPrometheus(arguments.decode(), context)
        default: throw ToolError.unknownTool(tool)
        }
    }

    /// Grafana answers with paths ("/d/uid/slug"); clients want something they can open.
    func absoluteURL(_ path: String?) -> String {
        guard let path, !path.isEmpty else { return "" }
        return path.hasPrefix("/") ? client.settings.base + path : path
    }
}

/// Compact JSON text (sorted keys) for text renderings.
enum JSONRendering {
    static func text(_ value: AnyJSON, limit: Int = 20_000) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "" }
        let text = String(decoding: data, as: UTF8.self)
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "… (\(text.count - limit) more characters in structuredContent)"
    }
}

extension AnyJSON {
    var int: Int? { number.flatMap { $0.rounded() == $0 && abs($0) < 9e15 ? Int($0) : nil } }
    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}

@_cdecl("mcp_plugin_entry")
public func mcpPluginEntry() -> UnsafeRawPointer { MCPPluginExport.descriptor(for: GrafanaPlugin.self) }
