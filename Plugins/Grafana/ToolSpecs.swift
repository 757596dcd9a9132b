import MCPPluginSDK

/// The manifest: every tool's schemas and truthful annotations. Grafana is one configured server
/// (a closed world from the model's point of view: openWorldHint false, as mcp-grafana says too).
enum GrafanaTools {
    static let read = ToolAnnotations(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)
    /// Creating never overwrites (Grafana refuses an existing uid or name), and a second identical
    /// call fails or creates another object: not idempotent.
    static let create = ToolAnnotations(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false)
    /// Saving over an existing dashboard replaces its content (the old version stays in Grafana's history).
    static let overwrite = ToolAnnotations(readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false)

    /// The tools that change Grafana; refused unless the tenant sets `allow_writes: true`.
    static let writeTools: Set<String> = ["create_dashboard", "update_dashboard", "create_datasource", "create_folder"]

    private static let datasourceRef =
        #"{"type":"object","properties":{"uid":{"type":"string"},"type":{"type":"string"},"name":{"type":"string"}}}"#
    private static let uidInput = #"{"type":"string","minLength":1,"maxLength":100,"description":"Dashboard UID"}"#
    private static let saveResult: JSONSchemaLiteral = """
        {"type":"object","properties":{
           "uid":{"type":"string"},"id":{"type":"integer"},"url":{"type":"string"},"version":{"type":"integer"},
           "status":{"type":"string"},"slug":{"type":"string"},"folder_uid":{"type":"string"},
           "previous_version":{"type":"integer"},"operations_applied":{"type":"integer"}},
         "required":["uid","url","version","status"]}
        """
    private static let datasourceObject = """
        {"type":"object","properties":{
           "uid":{"type":"string"},"id":{"type":"integer"},"name":{"type":"string"},"type":{"type":"string"},
           "url":{"type":"string"},"access":{"type":"string"},"is_default":{"type":"boolean"},"database":{"type":"string"},
           "read_only":{"type":"boolean"},"basic_auth":{"type":"boolean"},"json_data":{"type":"object"},
           "secure_json_fields":{"type":"array","items":{"type":"string"}}},
         "required":["uid","name","type"]}
        """
    private static let timeInput =
        #"{"type":["string","number"],"description":"Unix seconds, RFC 3339, 'now' or 'now-<duration>' (e.g. now-1h30m)"}"#

    static let all: [ToolSpec] = [
        ToolSpec(
            name: "search_dashboards", title: "Search dashboards",
            description:
                "Finds dashboards by title substring, tags (all must match), folders or starred state. Returns uid, title, folder, tags and URL.",
            inputSchema: """
                {"type":"object","additionalProperties":false,"properties":{
                   "query":{"type":"string","description":"Title substring (case-insensitive)"},
                   "tags":{"type":"array","items":{"type":"string","minLength":1},"description":"Only dashboards with all these tags"},
                   "folder_uids":{"type":"array","items":{"type":"string","minLength":1},"description":"Only dashboards directly in these folders ('general' = the root)"},
                   "starred":{"type":"boolean","description":"Only dashboards the token's user starred"},
                   "limit":{"type":"integer","minimum":1,"maximum":5000,"default":50},
                   "page":{"type":"integer","minimum":1,"default":1}}}
                """,
            outputSchema: """
                {"type":"object","properties":{
                   "dashboards":{"type":"array","items":{"type":"object","properties":{
                      "uid":{"type":"string"},"title":{"type":"string"},"url":{"type":"string"},
                      "tags":{"type":"array","items":{"type":"string"}},"folder_uid":{"type":"string"},"folder_title":{"type":"string"}},
                    "required":["uid","title","url","tags"]}},
                   "count":{"type":"integer"},"page":{"type":"integer"},"limit":{"type":"integer"}},
                 "required":["dashboards","count","page","limit"]}
                """,
            annotations: read),
        ToolSpec(
            name: "get_dashboard_by_uid", title: "Get dashboard",
            description:
                "Returns a dashboard's full JSON model and its metadata (version, folder, URL). Large; prefer get_dashboard_summary for an overview.",
            inputSchema: JSONSchemaLiteral(
                #"{"type":"object","additionalProperties":false,"required":["uid"],"properties":{"uid":\#(uidInput)}}"#),
            outputSchema: """
                {"type":"object","properties":{
                   "dashboard":{"type":"object"},
                   "meta":{"type":"object","properties":{
                      "version":{"type":"integer"},"url":{"type":"string"},"slug":{"type":"string"},
                      "folder_uid":{"type":"string"},"folder_title":{"type":"string"},
                      "created":{"type":"string"},"updated":{"type":"string"},"created_by":{"type":"string"},"updated_by":{"type":"string"},
                      "provisioned":{"type":"boolean"},"can_save":{"type":"boolean"}}}},
                 "required":["dashboard","meta"]}
                """,
            annotations: read),
        ToolSpec(
            name: "get_dashboard_summary", title: "Dashboard summary",
            description:
                "A compact overview of a dashboard: title, folder, tags, panels (id, title, type, datasource, row), variables and time range, without the full JSON.",
            inputSchema: JSONSchemaLiteral(
                #"{"type":"object","additionalProperties":false,"required":["uid"],"properties":{"uid":\#(uidInput)}}"#),
            outputSchema: JSONSchemaLiteral(
                """
                {"type":"object","properties":{
                   "uid":{"type":"string"},"title":{"type":"string"},"version":{"type":"integer"},"url":{"type":"string"},
                   "folder":{"type":["object","null"],"properties":{"uid":{"type":"string"},"title":{"type":"string"}}},
                   "tags":{"type":"array","items":{"type":"string"}},
                   "panel_count":{"type":"integer"},
                   "panels":{"type":"array","items":{"type":"object","properties":{
                      "id":{"type":"integer"},"title":{"type":"string"},"type":{"type":"string"},"row":{"type":"string"},
                      "datasource":\(datasourceRef),"query_count":{"type":"integer"}},
                    "required":["title","type","query_count"]}},
                   "variables":{"type":"array","items":{"type":"object","properties":{
                      "name":{"type":"string"},"type":{"type":"string"},"label":{"type":"string"},"query":{"type":"string"},
                      "current":{"type":"string"},"datasource":\(datasourceRef),"multi":{"type":"boolean"}},
                    "required":["name","type"]}},
                   "time":{"type":["object","null"],"properties":{"from":{"type":"string"},"to":{"type":"string"}}},
                   "refresh":{"type":"string"},"timezone":{"type":"string"}},
                 "required":["uid","title","folder","tags","panel_count","panels","variables","time"]}
                """),
            annotations: read),
        ToolSpec(
            name: "get_dashboard_panel_queries", title: "Panel queries",
            description:
                "The queries of each panel of a dashboard (or of one panel): refId, the query text (PromQL expr, SQL, ...) and the datasource uid/type it runs on.",
            inputSchema: JSONSchemaLiteral(
                #"""
                {"type":"object","additionalProperties":false,"required":["uid"],"properties":{
                   "uid":\#(uidInput),"panel_id":{"type":"integer","description":"Only this panel"}}}
                """#),
            outputSchema: JSONSchemaLiteral(
                """
                {"type":"object","properties":{
                   "uid":{"type":"string"},"title":{"type":"string"},
                   "panels":{"type":"array","items":{"type":"object","properties":{
                      "id":{"type":"integer"},"title":{"type":"string"},"type":{"type":"string"},"row":{"type":"string"},
                      "queries":{"type":"array","items":{"type":"object","properties":{
                         "ref_id":{"type":"string"},"query":{"type":"string"},"datasource":\(datasourceRef),
                         "hidden":{"type":"boolean"},"target":{"type":"object"}},"required":["query"]}}},
                    "required":["title","type","queries"]}}},
                 "required":["uid","title","panels"]}
                """),
            annotations: read),
        ToolSpec(
            name: "create_dashboard", title: "Create dashboard",
            description:
                "Creates a new dashboard from its JSON model (classic v1: title, panels[], templating...). Never overwrites: an existing uid, or the same title in the folder, is refused by Grafana. Needs allow_writes.",
            inputSchema: """
                {"type":"object","additionalProperties":false,"required":["dashboard"],"properties":{
                   "dashboard":{"type":"object","required":["title"],"properties":{"title":{"type":"string","minLength":1},"uid":{"type":"string"}},
                     "description":"The dashboard JSON model; 'id' and 'version' are ignored"},
                   "folder_uid":{"type":"string","description":"Folder to create it in (default: General)"},
                   "message":{"type":"string","description":"Version-history message"}}}
                """,
            outputSchema: saveResult, annotations: create),
        ToolSpec(
            name: "update_dashboard", title: "Update dashboard",
            description: """
                Saves changes to an existing dashboard, in one of two modes. Full: 'dashboard' is the complete JSON \
                model with its 'uid' and the 'version' it was read at (a stale version is refused by Grafana with \
                version-mismatch unless 'overwrite' is true). Patch: 'uid' plus 'operations', applied in order to the \
                current dashboard: {"op":"replace"|"add"|"remove","path":...,"value":...}; paths are JSONPath \
                ('$.title', '$.panels[0].targets[0].expr', '$.panels/-' appends) or JSON Pointer ('/panels/0/title', \
                '/panels/-'). replace/remove need an existing target, add creates or inserts. Pass 'version' in patch \
                mode to fail if the dashboard changed since you read it. Needs allow_writes.
                """,
            inputSchema: """
                {"type":"object","additionalProperties":false,"properties":{
                   "dashboard":{"type":"object","description":"Full mode: the complete dashboard JSON (with uid and version)"},
                   "overwrite":{"type":"boolean","default":false,"description":"Full mode: save even if the stored version differs"},
                   "uid":{"type":"string","minLength":1,"description":"Patch mode: the dashboard to change"},
                   "operations":{"type":"array","minItems":1,"items":{"type":"object","required":["op","path"],"properties":{
                      "op":{"type":"string","enum":["add","replace","remove"]},
                      "path":{"type":"string","minLength":1},
                      "value":{}}},"description":"Patch mode: the changes, applied in order"},
                   "version":{"type":"integer","minimum":0,"description":"Patch mode: the version the operations were written against"},
                   "folder_uid":{"type":"string","description":"Move the dashboard to this folder (default: where it is)"},
                   "message":{"type":"string","description":"Version-history message"}}}
                """,
            outputSchema: saveResult, annotations: overwrite),
        ToolSpec(
            name: "list_datasources", title: "List datasources",
            description:
                "Lists the configured datasources (uid, name, type, url, default), optionally only one type or names containing a string.",
            inputSchema: """
                {"type":"object","additionalProperties":false,"properties":{
                   "type":{"type":"string","description":"Only this type, e.g. prometheus, loki"},
                   "name":{"type":"string","description":"Case-insensitive substring of the name"}}}
                """,
            outputSchema: """
                {"type":"object","properties":{
                   "datasources":{"type":"array","items":{"type":"object","properties":{
                      "uid":{"type":"string"},"id":{"type":"integer"},"name":{"type":"string"},"type":{"type":"string"},
                      "url":{"type":"string"},"access":{"type":"string"},"is_default":{"type":"boolean"}},
                    "required":["uid","name","type"]}},
                   "count":{"type":"integer"}},
                 "required":["datasources","count"]}
                """,
            annotations: read),
        ToolSpec(
            name: "get_datasource", title: "Get datasource",
            description:
                "One datasource by uid or by name (exactly one of them): its settings and jsonData; secret fields are only named, never shown.",
            inputSchema: """
                {"type":"object","additionalProperties":false,"properties":{
                   "uid":{"type":"string","minLength":1},"name":{"type":"string","minLength":1}}}
                """,
            outputSchema: JSONSchemaLiteral(
                #"{"type":"object","properties":{"datasource":\#(datasourceObject)},"required":["datasource"]}"#),
            annotations: read),
        ToolSpec(
            name: "create_datasource", title: "Create datasource",
            description:
                "Adds a datasource (name, type, url, access, jsonData). Secrets are not accepted here. A duplicate name is refused by Grafana (409). Needs allow_writes.",
            inputSchema: """
                {"type":"object","additionalProperties":false,"required":["name","type"],"properties":{
                   "name":{"type":"string","minLength":1},"type":{"type":"string","minLength":1,"description":"Plugin type, e.g. prometheus"},
                   "uid":{"type":"string","minLength":1,"maxLength":40},"url":{"type":"string"},
                   "access":{"type":"string","enum":["proxy","direct"],"default":"proxy"},
                   "is_default":{"type":"boolean","default":false},"database":{"type":"string"},
                   "json_data":{"type":"object","description":"Type-specific settings, e.g. {\\"httpMethod\\":\\"POST\\"}"}}}
                """,
            outputSchema: JSONSchemaLiteral(
                #"{"type":"object","properties":{"datasource":\#(datasourceObject),"message":{"type":"string"}},"required":["datasource","message"]}"#
            ),
            annotations: create),
        ToolSpec(
            name: "list_folders", title: "List folders",
            description: "Lists one level of folders (uid, title): the top level, or the subfolders of parent_uid.",
            inputSchema: """
                {"type":"object","additionalProperties":false,"properties":{
                   "parent_uid":{"type":"string","minLength":1,"description":"List this folder's subfolders"},
                   "limit":{"type":"integer","minimum":1,"maximum":5000,"default":1000},"page":{"type":"integer","minimum":1,"default":1}}}
                """,
            outputSchema: """
                {"type":"object","properties":{
                   "folders":{"type":"array","items":{"type":"object","properties":{
                      "uid":{"type":"string"},"id":{"type":"integer"},"title":{"type":"string"},"parent_uid":{"type":"string"}},
                    "required":["uid","title"]}},
                   "count":{"type":"integer"}},
                 "required":["folders","count"]}
                """,
            annotations: read),
        ToolSpec(
            name: "create_folder", title: "Create folder",
            description: "Creates a folder (optionally with a chosen uid, or nested under parent_uid). Needs allow_writes.",
            inputSchema: """
                {"type":"object","additionalProperties":false,"required":["title"],"properties":{
                   "title":{"type":"string","minLength":1},"uid":{"type":"string","minLength":1,"maxLength":40},
                   "parent_uid":{"type":"string","minLength":1}}}
                """,
            outputSchema: """
                {"type":"object","properties":{
                   "uid":{"type":"string"},"id":{"type":"integer"},"title":{"type":"string"},"url":{"type":"string"},
                   "version":{"type":"integer"},"parent_uid":{"type":"string"}},
                 "required":["uid","title","url"]}
                """,
            annotations: create),
        ToolSpec(
            name: "query_prometheus_datasource", title: "Query a Prometheus datasource",
            description: """
                Runs PromQL on a Prometheus-type datasource through Grafana. query_type 'instant' (default) \
                evaluates at 'time' (default now); 'range' needs 'start', 'end' and 'step' (at most 11,000 points \
                per series).
                """,
            inputSchema: JSONSchemaLiteral(
                """
                {"type":"object","additionalProperties":false,"required":["datasource_uid","expr"],"properties":{
                   "datasource_uid":{"type":"string","minLength":1},
                   "expr":{"type":"string","minLength":1,"description":"PromQL expression"},
                   "query_type":{"type":"string","enum":["instant","range"],"default":"instant"},
                   "time":\(timeInput),"start":\(timeInput),"end":\(timeInput),
                   "step":{"type":["string","number"],"description":"Seconds or a duration such as 15s, 1m"}}}
                """),
            outputSchema: """
                {"type":"object","properties":{
                   "datasource_uid":{"type":"string"},"query_type":{"type":"string"},
                   "resultType":{"type":"string","enum":["vector","matrix","scalar","string"]},
                   "result":{"type":"array"},"warnings":{"type":"array","items":{"type":"string"}}},
                 "required":["datasource_uid","query_type","resultType","result"]}
                """,
            annotations: read),
    ]
}
