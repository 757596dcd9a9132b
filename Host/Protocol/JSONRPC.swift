import MCPJSON

/// JSON-RPC 2.0 error codes, and the MCP ones (2026-07-28 numbering).
public enum RPCErrorCode {
    public static let parseError: Int64 = -32700
    public static let invalidRequest: Int64 = -32600
    public static let methodNotFound: Int64 = -32601
    public static let invalidParams: Int64 = -32602
    public static let internalError: Int64 = -32603
    /// A request cancelled by the client (LSP's code; MCP leaves it to the implementation).
    public static let requestCancelled: Int64 = -32800
    public static let headerMismatch: Int64 = -32020
    public static let missingClientCapability: Int64 = -32021
    public static let unsupportedProtocolVersion: Int64 = -32022
}

/// A JSON-RPC error object.
public struct RPCError: Error, Sendable {
    public var code: Int64
    public var message: String
    public var data: JSONValue?

    public init(_ code: Int64, _ message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static func invalidParams(_ message: String) -> RPCError { RPCError(RPCErrorCode.invalidParams, message) }
    public static func internalError(_ message: String) -> RPCError { RPCError(RPCErrorCode.internalError, message) }

    var json: JSONValue {
        var object: JSONObject = ["code": .int(code), "message": .string(message)]
        if let data { object["data"] = data }
        return .object(object)
    }

    /// The HTTP status this error travels with on the 2026-07-28 HTTP transport.
    public var httpStatus: Int {
        switch code {
        case RPCErrorCode.parseError, RPCErrorCode.invalidRequest, RPCErrorCode.invalidParams,
            RPCErrorCode.headerMismatch, RPCErrorCode.missingClientCapability, RPCErrorCode.unsupportedProtocolVersion:
            return 400
        case RPCErrorCode.methodNotFound: return 404
        default: return 200
        }
    }
}

/// One incoming JSON-RPC message, classified.
public enum RPCMessage: Sendable {
    case request(id: JSONValue, method: String, params: JSONObject)
    case notification(method: String, params: JSONObject)
    /// A response from the client (to a server→client request); accepted and ignored here.
    case response(id: JSONValue)

    /// Classifies a parsed JSON value, or says why it is not a JSON-RPC 2.0 message.
    public init(_ value: JSONValue) throws(RPCError) {
        guard let object = value.objectValue else {
            throw RPCError(RPCErrorCode.invalidRequest, "Invalid Request: a JSON-RPC message must be a JSON object")
        }
        guard object["jsonrpc"]?.stringValue == "2.0" else {
            throw RPCError(RPCErrorCode.invalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\"")
        }
        let id = object["id"]
        if let id {
            switch id {
            case .string, .int: break
            case .double(let d) where d.rounded() == d: break
            default:
                throw RPCError(RPCErrorCode.invalidRequest, "Invalid Request: \"id\" must be a string or an integer")
            }
        }
        guard let methodValue = object["method"] else {
            if let id, object["result"] != nil || object["error"] != nil {
                self = .response(id: id)
                return
            }
            throw RPCError(RPCErrorCode.invalidRequest, "Invalid Request: missing \"method\"")
        }
        guard let method = methodValue.stringValue else {
            throw RPCError(RPCErrorCode.invalidRequest, "Invalid Request: \"method\" must be a string")
        }
        var params = JSONObject()
        if let paramsValue = object["params"] {
            switch paramsValue {
            case .object(let o): params = o
            case .null: break
            default: throw RPCError(RPCErrorCode.invalidParams, "Invalid params: \"params\" must be an object")
            }
        }
        if let id { self = .request(id: id, method: method, params: params) } else {
            self = .notification(method: method, params: params)
        }
    }

    public var method: String? {
        switch self {
        case .request(_, let method, _), .notification(let method, _): return method
        case .response: return nil
        }
    }
}

/// A method's result: a value to serialize, or the bytes of a JSON object already parsed and
/// checked (a plugin's CallToolResult), sent as they are instead of being written out again.
public enum RPCResult: Sendable {
    case value(JSONValue)
    case verbatim([UInt8])
}

/// Serializes outgoing messages. Envelopes are written by hand around already-built values so
/// the hot path builds no intermediate objects.
public enum RPCEncoder {
    public static func result(id: JSONValue, _ result: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        id.write(to: &out)
        out.append(contentsOf: #","result":"#.utf8)
        result.write(to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    public static func result(id: JSONValue, _ result: RPCResult) -> [UInt8] {
        switch result {
        case .value(let value): return self.result(id: id, value)
        case .verbatim(let bytes):
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 48)
            out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
            id.write(to: &out)
            out.append(contentsOf: #","result":"#.utf8)
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "}"))
            return out
        }
    }

    public static func error(id: JSONValue?, _ error: RPCError) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        (id ?? .null).write(to: &out)
        out.append(contentsOf: #","error":"#.utf8)
        error.json.write(to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    public static func notification(method: String, params: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"jsonrpc":"2.0","method":"#.utf8)
        JSONValue.writeString(method, to: &out)
        out.append(contentsOf: #","params":"#.utf8)
        params.write(to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
