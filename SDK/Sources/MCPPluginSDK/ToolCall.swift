#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The arguments of a tool call: the JSON object the client sent, already validated by the host
/// against the tool's inputSchema. Nothing is decoded until you ask.
public struct ToolArguments: Sendable {
    /// The raw JSON bytes (`{}` when the client sent none).
    public let json: Data

    public init(json: Data) { self.json = json }

    /// Decodes the arguments. A mismatch throws an invalid-arguments `ToolError` whose message
    /// names the field (`argument 'items[2].name': expected to decode String but found number
    /// instead`), so a plain `try` is the right thing in a tool.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        // The SDK's own decoder answers the common shapes with JSONDecoder's exact result, at a
        // fraction of its cost; it declines everything else (errors included), which goes below.
        if let value = ArgumentDecoder.decode(T.self, from: json) { return value }
        do {
            return try sharedDecoder.decode(T.self, from: json)
        } catch let error as DecodingError {
            throw ToolError(kind: .invalidArguments, message: describe(error, in: json, field: "argument", whole: "arguments"))
        }
    }
}

/// An error for the model to see. Thrown from `call`, it becomes `MCP_STATUS_TOOL_ERROR` (an
/// `isError: true` result with `message`), or the status its kind names.
public struct ToolError: Error, Sendable, CustomStringConvertible {
    public var message: String
    let kind: Kind

    enum Kind: Sendable {
        case tool, invalidArguments, unknownTool
    }

    /// A failure the model should see ("no such dashboard", "upstream answered 503", ...).
    public init(_ message: String) {
        self.init(kind: .tool, message: message)
    }

    init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// Arguments unacceptable beyond what the inputSchema expresses (`MCP_STATUS_INVALID_ARGUMENTS`).
    public static func invalidArguments(_ message: String) -> ToolError {
        ToolError(kind: .invalidArguments, message: message)
    }

    /// For the `default:` of a `switch tool` (`MCP_STATUS_UNKNOWN_TOOL`). The SDK already refuses
    /// names that are not in `tools`, so this is only reached when `tools` and `call` disagree.
    public static func unknownTool(_ name: String) -> ToolError {
        ToolError(kind: .unknownTool, message: "unknown tool '\(name)'")
    }

    public var description: String { message }
}

/// What a tool returns: an MCP CallToolResult with one text block, optionally `structuredContent`.
public struct ToolResult: Sendable {
    enum Storage: Sendable {
        case text(String, isError: Bool)
        case structured(json: [UInt8], text: String)
        case encodingFailed(String)
    }
    let storage: Storage

    /// A text result.
    public static func text(_ text: String) -> ToolResult {
        ToolResult(storage: .text(text, isError: false))
    }

    /// `structuredContent` (must encode to a JSON object conforming to the tool's outputSchema)
    /// plus a text block for clients that do not read structured content. The value is encoded
    /// here, so it need not be `Sendable`.
    public static func structured<Value: Encodable>(_ value: Value, text: String) -> ToolResult {
        // Byte-for-byte what sharedEncoder writes, for the common shapes, at a fraction of its
        // cost; it declines everything else, which goes below.
        if let json = StructuredEncoder.encode(value), json.first == UInt8(ascii: "{") {
            return ToolResult(storage: .structured(json: json, text: text))
        }
        do {
            let json = try sharedEncoder.encode(value)
            guard json.first == UInt8(ascii: "{") else {
                return ToolResult(storage: .encodingFailed("structuredContent of type \(Value.self) does not encode to a JSON object"))
            }
            return ToolResult(storage: .structured(json: [UInt8](json), text: text))
        } catch {
            return ToolResult(storage: .encodingFailed("cannot encode structuredContent of type \(Value.self): \(error)"))
        }
    }

    /// An `isError: true` result: the tool ran and failed in a way the model should see. The same
    /// as throwing `ToolError(message)`.
    public static func error(_ message: String) -> ToolResult {
        ToolResult(storage: .text(message, isError: true))
    }
}

/// `describe(_:field:whole:)`, plus a better answer for one case Foundation reports badly: a
/// number that does not fit an integer field (`2.5`, `1e40`) comes back as "The given data was
/// not valid JSON" without a path. When `json` is in fact valid, name the numbers that cannot be
/// integers instead.
func describe(_ error: DecodingError, in json: Data, field: String, whole: String) -> String {
    guard case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
        let tree = try? sharedDecoder.decode(AnyJSON.self, from: json)
    else { return describe(error, field: field, whole: whole) }
    var suspects: [String] = []
    func visit(_ value: AnyJSON, _ path: String) {
        switch value {
        case .number(let number) where number.rounded() != number || abs(number) >= 9.2e18:
            suspects.append("\(field) '\(path)': \(number) is not an integer in range")
        case .array(let values):
            for (index, value) in values.enumerated() { visit(value, "\(path)[\(index)]") }
        case .object(let members):
            for key in members.keys.sorted() { visit(members[key]!, path.isEmpty ? key : "\(path).\(key)") }
        default:
            break
        }
    }
    visit(tree, "")
    return suspects.isEmpty ? "\(whole): a value does not fit the type of its field" : suspects.joined(separator: "; ")
}

/// A `DecodingError` as one line naming the field path:
/// `argument 'a.b[2]': expected to decode Int but found a string instead`
func describe(_ error: DecodingError, field: String, whole: String) -> String {
    func path(_ codingPath: [any CodingKey]) -> String {
        var result = ""
        for key in codingPath {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                if !result.isEmpty { result += "." }
                result += key.stringValue
            }
        }
        return result
    }
    func name(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? whole : "\(field) '\(path(codingPath))'"
    }
    /// Foundation's "Expected to decode Int but found a string instead." → "expected to decode ...".
    func sentence(_ text: String, or fallback: String) -> String {
        guard let first = text.first else { return fallback }
        var text = first.lowercased() + text.dropFirst()
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
    switch error {
    case .keyNotFound(let key, let context):
        return "missing required \(field) '\(path(context.codingPath + [key]))'"
    case .typeMismatch(let type, let context):
        return "\(name(context.codingPath)): \(sentence(context.debugDescription, or: "expected \(type)"))"
    case .valueNotFound(let type, let context):
        return "\(name(context.codingPath)): expected \(type), found null"
    case .dataCorrupted(let context):
        return "\(name(context.codingPath)): \(sentence(context.debugDescription, or: "invalid value"))"
    @unknown default:
        return "\(whole): \(error)"
    }
}
