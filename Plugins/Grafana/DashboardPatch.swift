import MCPPluginSDK

/// Patch operations on a dashboard's JSON (update_dashboard's patch mode).
///
/// An operation is `{"op": "add"|"replace"|"remove", "path": ..., "value": ...}`, applied in order
/// with RFC 6902 semantics: `replace` and `remove` need the target to exist; `add` sets an object
/// member (creating or overwriting it) or inserts into an array at an index (0...count), or appends
/// with `-`. Intermediate members must exist. Two path spellings are accepted:
///   - JSONPath subset (what mcp-grafana's update_dashboard takes): `$.title`, `$.panels[0].title`,
///     `$['key with.dot']`, and a trailing `/-` to append: `$.panels/-`, `$.templating.list/-`;
///   - JSON Pointer (RFC 6901): `/title`, `/panels/0/targets/0/expr`, `/panels/-` (`~1` = `/`, `~0` = `~`).
/// `id`, `uid` and `version` are managed by Grafana and by the tool's own `version` argument: patches
/// may not touch them.
struct DashboardPatch {
    enum Op: String {
        case add, replace, remove
    }

    enum Step: Equatable {
        /// An object member (JSONPath `.name` / `['name']`).
        case key(String)
        /// An array element (JSONPath `[n]`).
        case index(Int)
        /// A JSON Pointer token: a member of an object, or an index of an array.
        case token(String)
        /// The end of an array (JSONPath's trailing `/-`); only as the last step of an `add`.
        case append
    }

    struct Operation {
        var op: Op
        var path: String
        var steps: [Step]
        var value: AnyJSON?
    }

    let operations: [Operation]

    /// Parses the `operations` argument; errors name the offending element.
    init(_ raw: [AnyJSON]) throws {
        guard !raw.isEmpty else { throw ToolError.invalidArguments("argument 'operations' must not be empty") }
        var parsed: [Operation] = []
        for (index, item) in raw.enumerated() {
            let field = "operations[\(index)]"
            guard let object = item.object else { throw ToolError.invalidArguments("argument '\(field)' must be an object") }
            guard let name = object["op"]?.string, let op = Op(rawValue: name) else {
                throw ToolError.invalidArguments("argument '\(field).op' must be one of add, replace, remove")
            }
            guard let path = object["path"]?.string else {
                throw ToolError.invalidArguments("argument '\(field).path' is required (a string)")
            }
            let steps = try Self.parse(path: path, field: "\(field).path")
            if op != .remove && object["value"] == nil {
                throw ToolError.invalidArguments("argument '\(field).value' is required for \(op.rawValue)")
            }
            if steps.last == .append && op != .add {
                throw ToolError.invalidArguments("argument '\(field).path': appending ('-') works only with op add")
            }
            if steps.dropLast().contains(.append) {
                throw ToolError.invalidArguments("argument '\(field).path': '-' may only end a path")
            }
            if let first = steps.first, case let name? = Self.memberName(first), ["id", "uid", "version"].contains(name) {
                throw ToolError.invalidArguments(
                    "argument '\(field).path': '\(name)' is managed by Grafana (use the 'version' argument for optimistic locking)")
            }
            parsed.append(Operation(op: op, path: path, steps: steps, value: object["value"]))
        }
        operations = parsed
    }

    /// The dashboard with every operation applied, in order.
    func apply(to dashboard: AnyJSON) throws -> AnyJSON {
        var result = dashboard
        for (index, operation) in operations.enumerated() {
            result = try Self.apply(operation, at: operation.steps[...], to: result, field: "operations[\(index)].path", location: "$")
        }
        return result
    }

    private static func memberName(_ step: Step) -> String? {
        switch step {
        case .key(let name), .token(let name): return name
        case .index, .append: return nil
        }
    }

    private static func apply(
        _ operation: Operation, at steps: ArraySlice<Step>, to value: AnyJSON, field: String, location: String
    ) throws -> AnyJSON {
        guard let step = steps.first else {
            throw ToolError.invalidArguments("argument '\(field)': the path must name a member or element, not the whole dashboard")
        }
        func fail(_ why: String) -> ToolError {
            ToolError.invalidArguments("argument '\(field)': '\(operation.path)': \(why)")
        }
        let last = steps.count == 1
        switch value {
        case .object(var members):
            let name: String
            switch step {
            case .key(let key), .token(let key): name = key
            case .index(let i): throw fail("\(location) is an object, not an array (no element [\(i)])")
            case .append: throw fail("\(location) is an object, not an array (cannot append)")
            }
            let here = "\(location).\(name)"
            if last {
                switch operation.op {
                case .add:
                    members[name] = operation.value ?? .null
                case .replace:
                    guard members[name] != nil else { throw fail("\(here) does not exist (use add to create it)") }
                    members[name] = operation.value ?? .null
                case .remove:
                    guard members.removeValue(forKey: name) != nil else { throw fail("\(here) does not exist") }
                }
            } else {
                guard let child = members[name] else { throw fail("\(here) does not exist") }
                members[name] = try apply(operation, at: steps.dropFirst(), to: child, field: field, location: here)
            }
            return .object(members)
        case .array(var elements):
            let position: Int
            switch step {
            case .index(let i):
                position = i
            case .append:
                position = elements.count
            case .token(let token):
                if token == "-" {
                    guard last, operation.op == .add else { throw fail("'-' works only as the last step of an add") }
                    position = elements.count
                } else {
                    guard let i = Int(token), i >= 0, String(i) == token else {
                        throw fail("\(location) is an array: '\(token)' is not an index")
                    }
                    position = i
                }
            case .key(let key):
                throw fail("\(location) is an array, not an object (no member '\(key)')")
            }
            let here = "\(location)[\(position)]"
            let inRange = position < elements.count
            if last {
                switch operation.op {
                case .add:
                    guard position <= elements.count else {
                        throw fail("index \(position) is past the end of \(location) (\(elements.count) elements)")
                    }
                    elements.insert(operation.value ?? .null, at: position)
                case .replace:
                    guard inRange else { throw fail("\(here) does not exist (\(location) has \(elements.count) elements)") }
                    elements[position] = operation.value ?? .null
                case .remove:
                    guard inRange else { throw fail("\(here) does not exist (\(location) has \(elements.count) elements)") }
                    elements.remove(at: position)
                }
            } else {
                guard inRange else { throw fail("\(here) does not exist (\(location) has \(elements.count) elements)") }
                elements[position] = try apply(operation, at: steps.dropFirst(), to: elements[position], field: field, location: here)
            }
            return .array(elements)
        default:
            throw fail("\(location) is a scalar: it has no members or elements")
        }
    }

    // MARK: - path syntax

    static func parse(path: String, field: String) throws -> [Step] {
        func fail(_ why: String) -> ToolError {
            ToolError.invalidArguments("argument '\(field)': '\(path)' \(why)")
        }
        if path.hasPrefix("/") {
            // JSON Pointer: "/a/0/b"; "~1" is "/" and "~0" is "~" inside a token.
            let tokens = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
                String($0).replacing("~1", with: "/").replacing("~0", with: "~")
            }
            // "-" stays a token: it appends to an array, and is an ordinary member name of an object.
            return tokens.map { .token($0) }
        }
        guard path.hasPrefix("$") else {
            throw fail("is neither a JSONPath ($.panels[0].title) nor a JSON Pointer (/panels/0/title)")
        }
        var steps: [Step] = []
        var rest = Substring(path.dropFirst())
        // mcp-grafana writes appends as "/- " (with a space): accept surrounding spaces there.
        let trimmedRest = rest.trimmingSuffixSpaces
        if trimmedRest.hasSuffix("/-") {
            rest = trimmedRest.dropLast(2)
            try parseJSONPath(rest, into: &steps, fail: fail)
            steps.append(.append)
            return steps
        }
        try parseJSONPath(rest, into: &steps, fail: fail)
        return steps
    }

    private static func parseJSONPath(_ text: Substring, into steps: inout [Step], fail: (String) -> ToolError) throws {
        var rest = text
        while let c = rest.first {
            if c == "." {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" && $0 != "/" }
                guard !name.isEmpty else { throw fail("has an empty member name after '.'") }
                steps.append(.key(String(name)))
                rest = rest.dropFirst(name.count)
            } else if c == "[" {
                rest = rest.dropFirst()
                if let quote = rest.first, quote == "'" || quote == "\"" {
                    rest = rest.dropFirst()
                    guard let end = rest.firstIndex(of: quote) else { throw fail("has an unterminated quoted member name") }
                    let name = rest[..<end]
                    rest = rest[rest.index(after: end)...]
                    guard rest.first == "]" else { throw fail("is missing ']' after a quoted member name") }
                    rest = rest.dropFirst()
                    steps.append(.key(String(name)))
                } else {
                    let digits = rest.prefix { $0 != "]" }
                    guard rest.dropFirst(digits.count).first == "]" else { throw fail("is missing ']'") }
                    guard let index = Int(digits), index >= 0, String(index) == digits else {
                        throw fail("has '[\(digits)]': only non-negative array indices are supported (no filters or wildcards)")
                    }
                    steps.append(.index(index))
                    rest = rest.dropFirst(digits.count + 1)
                }
            } else {
                throw fail("has an unexpected '\(c)' (use .name, [index] or ['name'])")
            }
        }
        if steps.isEmpty { throw fail("names the whole dashboard: give a member or element") }
    }
}

extension Substring {
    fileprivate var trimmingSuffixSpaces: Substring {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
