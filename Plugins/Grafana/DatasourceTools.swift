import MCPPluginSDK

/// list_datasources, get_datasource, create_datasource.
extension GrafanaPlugin {
    struct ListDatasourcesInput: Decodable {
        var type: String?
        var name: String?
    }
    struct GetDatasourceInput: Decodable {
        var uid: String?
        var name: String?
    }
    struct CreateDatasourceInput: Decodable {
        var name: String
        var type: String
        var uid: String?
        var url: String?
        var access: String?
        var is_default: Bool?
        var database: String?
        var json_data: AnyJSON?
    }

    struct DatasourceListItem: Encodable {
        var uid: String
        var id: Int?
        var name: String
        var type: String
        var url: String?
        var access: String?
        var is_default: Bool
    }
    struct DatasourceList: Encodable {
        var datasources: [DatasourceListItem]
        var count: Int
    }
    /// A datasource as the tools show it. Grafana never returns secure values (only which are set,
    /// in secureJsonFields); older versions returned `password`/`basicAuthPassword`, which are
    /// simply not copied here.
    struct DatasourceDetail: Encodable {
        var uid: String
        var id: Int?
        var name: String
        var type: String
        var url: String?
        var access: String?
        var is_default: Bool
        var database: String?
        var read_only: Bool?
        var basic_auth: Bool?
        var json_data: AnyJSON?
        var secure_json_fields: [String]?

        init(_ json: AnyJSON) {
            uid = json["uid"]?.string ?? ""
            id = json["id"]?.int
            name = json["name"]?.string ?? ""
            type = json["type"]?.string ?? ""
            url = json["url"]?.string
            access = json["access"]?.string
            is_default = json["isDefault"]?.bool ?? false
            database = json["database"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            read_only = json["readOnly"]?.bool
            basic_auth = json["basicAuth"]?.bool
            json_data = json["jsonData"]?.object != nil ? json["jsonData"] : nil
            secure_json_fields = json["secureJsonFields"]?.object.map { $0.filter { $0.value == .bool(true) }.keys.sorted() }
        }

        var line: String {
            "\(uid)  \(name) [\(type)]\(is_default ? " (default)" : "")\(url.map { $0.isEmpty ? "" : " \($0)" } ?? "")"
        }
    }
    struct DatasourceResult: Encodable {
        var datasource: DatasourceDetail
    }
    struct CreatedDatasource: Encodable {
        var datasource: DatasourceDetail
        var message: String
    }

    func listDatasources(_ input: ListDatasourcesInput, _ context: ToolContext) async throws -> ToolResult {
        let answer = try await client.send("GET", "/api/datasources", about: "the datasource list", context: context)
        let wantedType = input.type?.lowercased()
        let wantedName = input.name?.lowercased()
        let items = (answer.array ?? []).map(DatasourceDetail.init).filter { ds in
            (wantedType == nil || ds.type.lowercased() == wantedType) && (wantedName.map { ds.name.lowercased().contains($0) } ?? true)
        }.map {
            DatasourceListItem(
                uid: $0.uid, id: $0.id, name: $0.name, type: $0.type, url: $0.url, access: $0.access, is_default: $0.is_default)
        }
        let text =
            items.isEmpty
            ? "no datasources matched"
            : "\(items.count) datasource(s):\n"
                + items.map {
                    "\($0.uid)  \($0.name) [\($0.type)]\($0.is_default ? " (default)" : "")"
                }.joined(separator: "\n")
        return .structured(DatasourceList(datasources: items, count: items.count), text: text)
    }

    func getDatasource(_ input: GetDatasourceInput, _ context: ToolContext) async throws -> ToolResult {
        let path: String
        let subject: String
        switch (input.uid, input.name) {
        case (let uid?, nil):
            path = "/api/datasources/uid/\(GrafanaClient.segment(uid))"
            subject = "datasource uid '\(uid)'"
        case (nil, let name?):
            path = "/api/datasources/name/\(GrafanaClient.segment(name))"
            subject = "datasource name '\(name)'"
        default:
            throw ToolError.invalidArguments("give exactly one of the arguments 'uid' and 'name'")
        }
        let answer = try await client.send("GET", path, about: subject, context: context)
        let detail = DatasourceDetail(answer)
        var text = detail.line
        if let json = detail.json_data, json.object?.isEmpty == false { text += "\njsonData: \(JSONRendering.text(json, limit: 2000))" }
        if let secure = detail.secure_json_fields, !secure.isEmpty { text += "\nsecrets set: \(secure.joined(separator: ", "))" }
        return .structured(DatasourceResult(datasource: detail), text: text)
    }

    func createDatasource(_ input: CreateDatasourceInput, _ context: ToolContext) async throws -> ToolResult {
        if let json = input.json_data, json.object == nil {
            throw ToolError.invalidArguments("argument 'json_data' must be a JSON object")
        }
        var body: [String: AnyJSON] = [
            "name": .string(input.name), "type": .string(input.type), "access": .string(input.access ?? "proxy"),
            "isDefault": .bool(input.is_default ?? false),
        ]
        if let uid = input.uid { body["uid"] = .string(uid) }
        if let url = input.url { body["url"] = .string(url) }
        if let database = input.database { body["database"] = .string(database) }
        if let json = input.json_data { body["jsonData"] = json }
        let answer = try await client.send(
            "POST", "/api/datasources", body: .json(.object(body)), about: "creating datasource '\(input.name)'", context: context)
        guard let created = answer["datasource"] else {
            throw ToolError("Grafana created the datasource but answered without it: \(JSONRendering.text(answer, limit: 500))")
        }
        let detail = DatasourceDetail(created)
        let message = answer["message"]?.string ?? "Datasource added"
        return .structured(CreatedDatasource(datasource: detail, message: message), text: "\(message): \(detail.line)")
    }
}
