import MCPPluginSDK
import PromQLSupport

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Prometheus query tools, for a plain Prometheus server or Amazon Managed Prometheus (AMP).
///
/// Per-tenant configuration, one of:
///   {"url": "http://prometheus:9090", "basic_auth": {"username": "u", "password_env": "VAR"}}
///   {"url": "...", "bearer_token_env": "VAR"}
///   {"workspace_id": "ws-...", "region": "us-east-1", "endpoint": "https://..."?}   (AMP, SigV4 "aps",
///    credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN)
/// Secrets are read from the host's environment, never from the configuration file. The URL the
/// plugin talks to always comes from the configuration, never from the MCP client.
struct PrometheusPlugin: MCPPlugin {
    struct Configuration: Decodable, Sendable {
        struct BasicAuth: Decodable, Sendable {
            var username: String
            var password_env: String
        }
        var url: String?
        var basic_auth: BasicAuth?
        var bearer_token_env: String?
        var workspace_id: String?
        var region: String?
        var endpoint: String?
        var timeout_ms: Int?
    }

    static let name = "prometheus"
    static let version = "1.0.0"
    static let configurationSchema: JSONSchemaLiteral = """
        {"type":"object","additionalProperties":false,
         "properties":{
           "url":{"type":"string","description":"Base URL of a Prometheus server (http or https)"},
           "basic_auth":{"type":"object","additionalProperties":false,"required":["username","password_env"],
             "properties":{"username":{"type":"string"},
                           "password_env":{"type":"string","description":"Environment variable holding the password"}}},
           "bearer_token_env":{"type":"string","description":"Environment variable holding a bearer token"},
           "workspace_id":{"type":"string","description":"Amazon Managed Prometheus workspace id"},
           "region":{"type":"string","description":"AWS region of the workspace"},
           "endpoint":{"type":"string","description":"AMP endpoint override (default https://aps-workspaces.<region>.amazonaws.com)"},
           "timeout_ms":{"type":"integer","minimum":100,"maximum":300000}},
         "oneOf":[{"required":["url"]},{"required":["workspace_id","region"]}]}
        """

    private static let readOnly = ToolAnnotations(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true)
    private static let timeSchema = #"{"type":["string","number"],"description":"Unix seconds or RFC 3339"}"#
    private static let evaluationTimeoutSchema =
        #"{"type":["string","number"],"description":"Evaluation timeout (seconds or a duration such as 10s); the server's default otherwise"}"#
    private static let queryResultSchema: JSONSchemaLiteral = """
        {"type":"object","properties":{
           "resultType":{"type":"string","enum":["vector","matrix","scalar","string"]},
           "result":{"type":["array"]},
           "warnings":{"type":"array","items":{"type":"string"}}},
         "required":["resultType","result"]}
        """
    static let tools = [
        ToolSpec(
            name: "execute_query", title: "Instant query",
            description: "Evaluates a PromQL expression at one instant (default: now) and returns the result.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "query":{"type":"string","minLength":1,"description":"PromQL expression"},
                   "time":\(timeSchema),"timeout":\(evaluationTimeoutSchema)},
                 "required":["query"],"additionalProperties":false}
                """),
            outputSchema: queryResultSchema, annotations: readOnly),
        ToolSpec(
            name: "execute_range_query", title: "Range query",
            description: "Evaluates a PromQL expression over a time range at a fixed step (at most 11,000 points per series).",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "query":{"type":"string","minLength":1,"description":"PromQL expression"},
                   "start":\(timeSchema),"end":\(timeSchema),
                   "step":{"type":["string","number"],"description":"Seconds or a duration such as 15s, 1m, 1h"},
                   "timeout":\(evaluationTimeoutSchema)},
                 "required":["query","start","end","step"],"additionalProperties":false}
                """),
            outputSchema: queryResultSchema, annotations: readOnly),
        ToolSpec(
            name: "list_metrics", title: "List metrics", description: "Lists the metric names the server knows.",
            inputSchema: #"{"type":"object","properties":{},"additionalProperties":false}"#,
            outputSchema: """
                {"type":"object","properties":{"metrics":{"type":"array","items":{"type":"string"}},"count":{"type":"integer"}},
                 "required":["metrics","count"]}
                """,
            annotations: readOnly),
        ToolSpec(
            name: "get_server_info", title: "Server info",
            description: "Describes the configured Prometheus backend and its build information.",
            inputSchema: #"{"type":"object","properties":{},"additionalProperties":false}"#,
            outputSchema: """
                {"type":"object","properties":{
                   "backend":{"type":"string","enum":["prometheus","amazon-managed-prometheus"]},
                   "endpoint":{"type":"string"},"workspace_id":{"type":"string"},"region":{"type":"string"},
                   "build":{"type":["object","null"]}},
                 "required":["backend","endpoint","build"]}
                """,
            annotations: readOnly),
        ToolSpec(
            name: "list_label_values", title: "Label values",
            description: "Lists the values of one label, optionally only on series matching selectors and within a time range.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "label":{"type":"string","pattern":"^[a-zA-Z_][a-zA-Z0-9_]*$"},
                   "match":{"type":"array","items":{"type":"string","minLength":1}},
                   "start":\(timeSchema),"end":\(timeSchema)},
                 "required":["label"],"additionalProperties":false}
                """),
            outputSchema: """
                {"type":"object","properties":{"label":{"type":"string"},"values":{"type":"array","items":{"type":"string"}},
                 "count":{"type":"integer"}},"required":["label","values","count"]}
                """,
            annotations: readOnly),
        ToolSpec(
            name: "find_series", title: "Find series",
            description: "Finds the series (label sets) matching one or more selectors.",
            inputSchema: JSONSchemaLiteral("""
                {"type":"object","properties":{
                   "match":{"type":"array","minItems":1,"items":{"type":"string","minLength":1}},
                   "start":\(timeSchema),"end":\(timeSchema),
                   "limit":{"type":"integer","minimum":1,"maximum":10000,"default":100}},
                 "required":["match"],"additionalProperties":false}
                """),
            outputSchema: """
                {"type":"object","properties":{
                   "series":{"type":"array","items":{"type":"object","additionalProperties":{"type":"string"}}},
                   "count":{"type":"integer"},"truncated":{"type":"boolean"}},
                 "required":["series","count","truncated"]}
                """,
            annotations: readOnly),
        ToolSpec(
            name: "get_available_workspaces", title: "Workspaces",
            description:
                "Lists the Prometheus workspaces this tenant can query: the AMP workspaces of the configured region, or the one configured server.",
            inputSchema: #"{"type":"object","properties":{},"additionalProperties":false}"#,
            outputSchema: """
                {"type":"object","properties":{
                   "backend":{"type":"string"},
                   "workspaces":{"type":"array","items":{"type":"object","properties":{
                      "workspace_id":{"type":["string","null"]},"alias":{"type":["string","null"]},
                      "status":{"type":["string","null"]},"url":{"type":["string","null"]},"configured":{"type":"boolean"}},
                    "required":["configured"]}}},
                 "required":["backend","workspaces"]}
                """,
            annotations: readOnly),
    ]

    enum Backend: Sendable {
        /// `base` without a trailing slash; `authorization` the header value or nil.
        case plain(base: String, authorization: String?)
        case amp(workspaceID: String, region: String, endpoint: String, signer: SigV4Signer)
    }

    let backend: Backend
    let host: PluginHost
    let timeout: Duration

    init(configuration c: Configuration, host: PluginHost) throws {
        self.host = host
        timeout = .milliseconds(c.timeout_ms ?? 15_000)
        let environment = ProcessInfo.processInfo.environment
        if let url = c.url {
            guard c.workspace_id == nil, c.region == nil, c.endpoint == nil else {
                throw ToolError("configure either 'url' or 'workspace_id'+'region' (Amazon Managed Prometheus), not both")
            }
            guard c.basic_auth == nil || c.bearer_token_env == nil else {
                throw ToolError("configure at most one of 'basic_auth' and 'bearer_token_env'")
            }
            let base = try ConfigurationValues.baseURL(url, credentialsHint: Self.credentialsHint)
            var authorization: String?
            if let basic = c.basic_auth {
                guard let password = environment[basic.password_env], !password.isEmpty else {
                    throw ToolError("basic_auth.password_env: environment variable \(basic.password_env) is not set")
                }
                authorization = "Basic " + Data("\(basic.username):\(password)".utf8).base64EncodedString()
            } else if let variable = c.bearer_token_env {
                guard let token = environment[variable], !token.isEmpty else {
                    throw ToolError("bearer_token_env: environment variable \(variable) is not set")
                }
                authorization = "Bearer " + token
            }
            backend = .plain(base: base, authorization: authorization)
        } else {
            guard let workspace = c.workspace_id, let region = c.region else {
                throw ToolError("configure 'url', or 'workspace_id' and 'region' for Amazon Managed Prometheus")
            }
            guard c.basic_auth == nil, c.bearer_token_env == nil else {
                throw ToolError("Amazon Managed Prometheus uses AWS credentials: remove 'basic_auth' / 'bearer_token_env'")
            }
            guard !workspace.isEmpty, workspace.utf8.allSatisfy(Self.isIdentifierByte),
                !region.isEmpty, region.utf8.allSatisfy(Self.isIdentifierByte)
            else { throw ToolError("'workspace_id' and 'region' may contain only letters, digits, '-' and '_'") }
            guard let credentials = AWSCredentials.fromEnvironment(environment) else {
                throw ToolError(
                    "Amazon Managed Prometheus needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) in the host's environment"
                )
            }
            let endpoint = try ConfigurationValues.baseURL(
                c.endpoint ?? "https://aps-workspaces.\(region).amazonaws.com", key: "endpoint", credentialsHint: Self.credentialsHint)
            backend = .amp(
                workspaceID: workspace, region: region, endpoint: endpoint,
                signer: SigV4Signer(credentials: credentials, region: region, service: "aps"))
        }
    }

    private static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 95
    }

    static let credentialsHint = "use basic_auth with password_env, or bearer_token_env"

    // MARK: - tools

    struct QueryInput: Decodable {
        var query: String
        var time: TimeValue?
        var timeout: TimeValue?
    }
    struct RangeInput: Decodable {
        var query: String
        var start: TimeValue
        var end: TimeValue
        var step: TimeValue
        var timeout: TimeValue?
    }
    struct LabelValuesInput: Decodable {
        var label: String
        var match: [String]?
        var start: TimeValue?
        var end: TimeValue?
    }
    struct SeriesInput: Decodable {
        var match: [String]
        var start: TimeValue?
        var end: TimeValue?
        var limit: Int?
    }

    typealias TimeValue = PromTimeArgument

    struct QueryResult: Encodable {
        var resultType: String
        var result: AnyJSON
        var warnings: [String]?
    }
    struct MetricsResult: Encodable {
        var metrics: [String]
        var count: Int
    }
    struct ServerInfo: Encodable {
        var backend: String
        var endpoint: String
        var workspace_id: String?
        var region: String?
        var build: AnyJSON
    }
    struct LabelValuesResult: Encodable {
        var label: String
        var values: [String]
        var count: Int
    }
    struct SeriesResult: Encodable {
        var series: [[String: String]]
        var count: Int
        var truncated: Bool
    }
    struct Workspace: Encodable {
        var workspace_id: String?
        var alias: String?
        var status: String?
        var url: String?
        var configured: Bool
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(workspace_id, forKey: .workspace_id)
            try c.encode(alias, forKey: .alias)
            try c.encode(status, forKey: .status)
            try c.encode(url, forKey: .url)
            try c.encode(configured, forKey: .configured)
        }
        enum CodingKeys: String, CodingKey { case workspace_id, alias, status, url, configured }
    }
    struct WorkspacesResult: Encodable {
        var backend: String
        var workspaces: [Workspace]
    }

    func call(_ tool: String, arguments: ToolArguments, context: ToolContext) async throws -> ToolResult {
        switch tool {
        case "execute_query":
            let input = try arguments.decode(QueryInput.self)
            var parameters = [("query", input.query)]
            if let time = input.time { parameters.append(("time", PromTime.format(try Self.timestamp(time, "time")))) }
            if let timeout = input.timeout { parameters.append(("timeout", try Self.evaluationTimeout(timeout))) }
            let answer = try await api("/api/v1/query", parameters, context: context)
            return try Self.queryResult(answer)
        case "execute_range_query":
            let input = try arguments.decode(RangeInput.self)
            let start = try Self.timestamp(input.start, "start")
            let end = try Self.timestamp(input.end, "end")
            guard let step = PromTime.parseDuration(input.step.text) else {
                throw ToolError.invalidArguments("argument 'step': '\(input.step.text)' is neither seconds nor a duration like 15s, 1m, 1h")
            }
            guard step > 0 else { throw ToolError.invalidArguments("argument 'step' must be positive") }
            guard end >= start else { throw ToolError.invalidArguments("argument 'end' (\(input.end.text)) is before 'start' (\(input.start.text))") }
            if let refusal = PromQuery.rangeRefusal(start: start, end: end, step: step) {
                throw ToolError.invalidArguments(refusal)
            }
            var parameters = [
                ("query", input.query), ("start", PromTime.format(start)), ("end", PromTime.format(end)), ("step", PromTime.format(step)),
            ]
            if let timeout = input.timeout { parameters.append(("timeout", try Self.evaluationTimeout(timeout))) }
            let answer = try await api("/api/v1/query_range", parameters, context: context)
            return try Self.queryResult(answer)
        case "list_metrics":
            let answer = try await api("/api/v1/label/__name__/values", [], context: context)
            let metrics = (answer.data.array ?? []).compactMap(\.string)
            let text = metrics.isEmpty ? "no metrics" : "\(metrics.count) metrics: " + Self.truncatedList(metrics, limit: 200)
            return .structured(MetricsResult(metrics: metrics, count: metrics.count), text: text)
        case "get_server_info":
            return try await serverInfo(context: context)
        case "list_label_values":
            let input = try arguments.decode(LabelValuesInput.self)
            guard !input.label.isEmpty, input.label.utf8.allSatisfy({ Self.isIdentifierByte($0) && $0 != 45 }) else {
                throw ToolError.invalidArguments("argument 'label': '\(input.label)' is not a label name")
            }
            var parameters: [(String, String)] = (input.match ?? []).map { ("match[]", $0) }
            if let start = input.start { parameters.append(("start", PromTime.format(try Self.timestamp(start, "start")))) }
            if let end = input.end { parameters.append(("end", PromTime.format(try Self.timestamp(end, "end")))) }
            let answer = try await api("/api/v1/label/\(input.label)/values", parameters, context: context)
            let values = (answer.data.array ?? []).compactMap(\.string)
            let text = values.isEmpty ? "label \(input.label): no values" : "label \(input.label): " + Self.truncatedList(values, limit: 200)
            return .structured(LabelValuesResult(label: input.label, values: values, count: values.count), text: text)
        case "find_series":
            let input = try arguments.decode(SeriesInput.self)
            let limit = input.limit ?? 100
            guard (1...10_000).contains(limit) else { throw ToolError.invalidArguments("argument 'limit' must be 1...10000") }
            var parameters: [(String, String)] = input.match.map { ("match[]", $0) }
            if let start = input.start { parameters.append(("start", PromTime.format(try Self.timestamp(start, "start")))) }
            if let end = input.end { parameters.append(("end", PromTime.format(try Self.timestamp(end, "end")))) }
            let answer = try await api("/api/v1/series", parameters, context: context)
            let all = (answer.data.array ?? []).compactMap { item -> [String: String]? in
                item.object.map { $0.compactMapValues(\.string) }
            }
            let series = Array(all.prefix(limit))
            var text = series.isEmpty ? "no series" : series.map(Self.seriesName).joined(separator: "\n")
            if all.count > limit { text += "\n… \(all.count - limit) more (raise 'limit')" }
            return .structured(SeriesResult(series: series, count: series.count, truncated: all.count > limit), text: text)
        case "get_available_workspaces":
            return try await workspaces(context: context)
        default:
            throw ToolError.unknownTool(tool)
        }
    }

    private static func evaluationTimeout(_ value: TimeValue) throws -> String {
        guard let seconds = PromTime.parseDuration(value.text), seconds > 0 else {
            throw ToolError.invalidArguments("argument 'timeout': '\(value.text)' is not a positive duration (seconds, or like 10s, 1m)")
        }
        return PromTime.format(seconds)
    }

    private static func timestamp(_ value: TimeValue, _ name: String) throws -> Double {
        guard let seconds = PromTime.parseTimestamp(value.text) else {
            throw ToolError.invalidArguments("argument '\(name)': '\(value.text)' is neither Unix seconds nor an RFC 3339 time")
        }
        return seconds
    }

    // MARK: - results

    static func queryResult(_ answer: APIAnswer) throws -> ToolResult {
        guard let type = answer.data["resultType"]?.string, let result = answer.data["result"] else {
            throw ToolError("Prometheus answered without data.resultType/data.result")
        }
        // Scalars and strings come as [time, "value"]; keep them as that array.
        var text = render(type: type, result: result)
        if !answer.warnings.isEmpty { text += "\nwarnings: " + answer.warnings.joined(separator: "; ") }
        return .structured(
            QueryResult(resultType: type, result: result, warnings: answer.warnings.isEmpty ? nil : answer.warnings), text: text)
    }

    static func render(type: String, result: AnyJSON) -> String { PromQuery.render(type: type, result: result) }

    static func seriesName(_ labels: [String: String]) -> String { PromQuery.seriesName(labels) }

    static func truncatedList(_ items: [String], limit: Int) -> String {
        var text = items.prefix(limit).joined(separator: ", ")
        if items.count > limit { text += ", … \(items.count - limit) more" }
        return text
    }

    private func serverInfo(context: ToolContext) async throws -> ToolResult {
        var build = AnyJSON.null
        var buildError: String?
        do {
            build = try await api("/api/v1/status/buildinfo", [], context: context).data
        } catch let error as ToolError {
            // AMP does not serve buildinfo: report the backend anyway.
            guard case .amp = backend else { throw error }
            buildError = error.message
        }
        let info: ServerInfo
        switch backend {
        case .plain(let base, _):
            info = ServerInfo(backend: "prometheus", endpoint: base, build: build)
        case .amp(let workspace, let region, let endpoint, _):
            info = ServerInfo(
                backend: "amazon-managed-prometheus", endpoint: "\(endpoint)/workspaces/\(workspace)", workspace_id: workspace,
                region: region, build: build)
        }
        var text = "\(info.backend) at \(info.endpoint)"
        if let version = build["version"]?.string { text += ", version \(version)" }
        if let revision = build["revision"]?.string { text += " (revision \(revision))" }
        if let buildError { text += "; build info unavailable: \(buildError)" }
        return .structured(info, text: text)
    }

    private func workspaces(context: ToolContext) async throws -> ToolResult {
        switch backend {
        case .plain(let base, _):
            let result = WorkspacesResult(
                backend: "prometheus", workspaces: [Workspace(workspace_id: nil, alias: nil, status: nil, url: base, configured: true)])
            return .structured(result, text: "1 workspace: the configured Prometheus server \(base)")
        case .amp(let configured, let region, let endpoint, _):
            var all: [Workspace] = []
            var nextToken: String?
            // AMP's control plane: GET /workspaces (ListWorkspaces), paged by nextToken.
            let control = endpoint.hasPrefix("https://aps-workspaces.") ? "https://aps.\(region).amazonaws.com" : endpoint
            repeat {
                var parameters = [("maxResults", "100")]
                if let token = nextToken { parameters.append(("nextToken", token)) }
                let body = try await send(base: control, path: "/workspaces", parameters, context: context, expectPrometheusEnvelope: false)
                for item in body.data["workspaces"]?.array ?? [] {
                    let id = item["workspaceId"]?.string
                    all.append(
                        Workspace(
                            workspace_id: id, alias: item["alias"]?.string, status: item["status"]?["statusCode"]?.string,
                            url: id.map { "\(endpoint)/workspaces/\($0)" }, configured: id == configured))
                }
                nextToken = body.data["nextToken"]?.string
            } while nextToken != nil && all.count < 10_000
            let text =
                all.isEmpty
                ? "no workspaces in \(region)"
                : "\(all.count) workspace(s) in \(region):\n"
                    + all.map { "\($0.workspace_id ?? "?")\($0.alias.map { " (\($0))" } ?? "") \($0.status ?? "")\($0.configured ? " [configured]" : "")" }
                    .joined(separator: "\n")
            return .structured(WorkspacesResult(backend: "amazon-managed-prometheus", workspaces: all), text: text)
        }
    }

    // MARK: - HTTP

    struct APIAnswer {
        var data: AnyJSON
        var warnings: [String]
    }

    /// A Prometheus HTTP API call (`path` under `/api/v1`), through the host's HTTP client.
    func api(_ path: String, _ parameters: [(String, String)], context: ToolContext) async throws -> APIAnswer {
        switch backend {
        case .plain(let base, _):
            return try await send(base: base, path: path, parameters, context: context, expectPrometheusEnvelope: true)
        case .amp(let workspace, _, let endpoint, _):
            return try await send(base: "\(endpoint)/workspaces/\(workspace)", path: path, parameters, context: context, expectPrometheusEnvelope: true)
        }
    }

    private func send(
        base: String, path: String, _ parameters: [(String, String)], context: ToolContext, expectPrometheusEnvelope: Bool
    ) async throws -> APIAnswer {
        var url = base + path
        if !parameters.isEmpty {
            url += "?" + parameters.map { SigV4Signer.uriEncode($0.0) + "=" + SigV4Signer.uriEncode($0.1) }.joined(separator: "&")
        }
        var timeout = self.timeout
        if let deadline = context.deadlineUnixMilliseconds {
            // Leave a little of the call's deadline to report the failure ourselves.
            let remaining = deadline - host.nowUnixMilliseconds() - 250
            guard remaining > 0 else { throw ToolError("Prometheus request not sent: the tool call's deadline has passed") }
            timeout = min(timeout, .milliseconds(remaining))
        }
        var request = HTTPRequest(method: "GET", url: url, headers: ["accept": "application/json"], timeout: timeout)
        let isAMP: Bool
        switch backend {
        case .plain(_, let authorization):
            isAMP = false
            if let authorization { request.headers.add(name: "authorization", value: authorization) }
        case .amp(_, _, _, let signer):
            isAMP = true
            request = try signer.sign(request, unixTime: host.nowUnixMilliseconds() / 1000)
        }
        let what = isAMP ? "Amazon Managed Prometheus" : "Prometheus"
        let response: HTTPResponse
        do {
            response = try await host.http(request)
        } catch let error as HostHTTPError {
            host.log(.warning, "\(what) request \(path) failed: \(error.message)")
            throw ToolError("\(what) is unreachable (\(Self.hostPart(of: base))): \(error.message)")
        }
        let body = try? response.json()
        if (200..<300).contains(response.status) {
            guard let body else {
                throw ToolError("\(what) answered HTTP \(response.status) with a body that is not AnyJSON: \(Self.excerpt(response.text))")
            }
            if !expectPrometheusEnvelope { return APIAnswer(data: body, warnings: []) }
            guard body["status"]?.string == "success", let data = body["data"] else {
                throw ToolError("\(what) error: \(body["error"]?.string ?? Self.excerpt(response.text))")
            }
            return APIAnswer(data: data, warnings: (body["warnings"]?.array ?? []).compactMap(\.string))
        }
        host.log(.notice, "\(what) request \(path) answered HTTP \(response.status)")
        // Prometheus: {"status":"error","errorType":"bad_data","error":"..."}.
        if let message = body?["error"]?.string {
            let type = body?["errorType"]?.string.map { ", \($0)" } ?? ""
            throw ToolError("\(what) error (HTTP \(response.status)\(type)): \(message)")
        }
        // AWS: {"message":"..."} (+ x-amzn-errortype header).
        let awsMessage = body?["message"]?.string ?? body?["Message"]?.string
        if isAMP && response.status == 403 {
            let type = response.headers["x-amzn-errortype"].map { " \($0.split(separator: ":").first ?? "")" } ?? ""
            throw ToolError(
                "Amazon Managed Prometheus rejected the request signature or credentials (HTTP 403\(type)): \(awsMessage ?? Self.excerpt(response.text))")
        }
        if response.status == 401 {
            throw ToolError("\(what) rejected the configured credentials (HTTP 401): \(awsMessage ?? Self.excerpt(response.text))")
        }
        throw ToolError("\(what) answered HTTP \(response.status): \(awsMessage ?? Self.excerpt(response.text))")
    }

    private static func hostPart(of url: String) -> String {
        url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false).dropFirst(2).first.map(String.init) ?? url
    }

    private static func excerpt(_ text: String) -> String {
        let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        if trimmed.isEmpty { return "(empty body)" }
        return trimmed.count > 500 ? String(trimmed.prefix(500)) + "…" : trimmed
    }
}

@_cdecl("mcp_plugin_entry")
public func mcpPluginEntry() -> UnsafeRawPointer { MCPPluginExport.descriptor(for: PrometheusPlugin.self) }
