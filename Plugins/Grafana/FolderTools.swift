import MCPPluginSDK

/// list_folders, create_folder.
extension GrafanaPlugin {
    struct ListFoldersInput: Decodable {
        var parent_uid: String?
        var limit: Int?
        var page: Int?
    }
    struct CreateFolderInput: Decodable {
        var title: String
        var uid: String?
        var parent_uid: String?
    }

    struct FolderItem: Encodable {
        var uid: String
        var id: Int?
        var title: String
        var parent_uid: String?
    }
    struct FolderList: Encodable {
        var folders: [FolderItem]
        var count: Int
    }
    struct CreatedFolder: Encodable {
        var uid: String
        var id: Int?
        var title: String
        var url: String
        var version: Int?
        var parent_uid: String?
    }

    func listFolders(_ input: ListFoldersInput, _ context: ToolContext) async throws -> ToolResult {
        // Grafana lists one level of (nested) folders: the root, or the children of parentUid.
        var query = [("limit", String(input.limit ?? 1000)), ("page", String(input.page ?? 1))]
        if let parent = input.parent_uid { query.append(("parentUid", parent)) }
        let subject = input.parent_uid.map { "the subfolders of '\($0)'" } ?? "the folder list"
        let answer = try await client.send("GET", "/api/folders", query: query, about: subject, context: context)
        let folders = (answer.array ?? []).map { f in
            FolderItem(uid: f["uid"]?.string ?? "", id: f["id"]?.int, title: f["title"]?.string ?? "", parent_uid: f["parentUid"]?.string)
        }
        let place = input.parent_uid.map { " in '\($0)'" } ?? ""
        let text =
            folders.isEmpty
            ? "no folders\(place)"
            : "\(folders.count) folder(s)\(place):\n"
                + folders.map {
                    "\($0.uid)  \($0.title)"
                }.joined(separator: "\n")
        return .structured(FolderList(folders: folders, count: folders.count), text: text)
    }

    func createFolder(_ input: CreateFolderInput, _ context: ToolContext) async throws -> ToolResult {
        var body: [String: AnyJSON] = ["title": .string(input.title)]
        if let uid = input.uid { body["uid"] = .string(uid) }
        if let parent = input.parent_uid { body["parentUid"] = .string(parent) }
        let answer = try await client.send(
            "POST", "/api/folders", body: .json(.object(body)), about: "creating folder '\(input.title)'", context: context)
        guard let uid = answer["uid"]?.string else {
            throw ToolError("Grafana created the folder but answered without its uid: \(JSONRendering.text(answer, limit: 500))")
        }
        let folder = CreatedFolder(
            uid: uid, id: answer["id"]?.int, title: answer["title"]?.string ?? input.title, url: absoluteURL(answer["url"]?.string),
            version: answer["version"]?.int, parent_uid: answer["parentUid"]?.string)
        return .structured(folder, text: "created folder '\(folder.title)' (uid \(folder.uid)): \(folder.url)")
    }
}
