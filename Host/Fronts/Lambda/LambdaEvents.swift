import Foundation
import MCPHostCore
import MCPJSON

/// Which shape an HTTP-style Lambda event had; the response goes back in the same shape.
public enum LambdaEventFormat: Sendable, Equatable {
    /// API Gateway REST API (proxy integration, payload format 1.0).
    case apiGatewayV1
    /// Lambda Function URL or API Gateway HTTP API (payload format 2.0).
    case httpV2(functionURL: Bool)
}

/// An HTTP-style Lambda event turned into the request every front produces.
public struct LambdaHTTPEvent: Sendable {
    public var format: LambdaEventFormat
    public var request: HostRequest
}

/// Why an event could not become a request.
public enum LambdaEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not an HTTP event at all (a direct invoke with some other JSON, an S3 notification...):
    /// reported as an invocation error.
    case unsupported(String)
    /// An HTTP event whose content is wrong (a body that is not base64 although the event says
    /// so): answered with a 400 in the event's own format.
    case badRequest(LambdaEventFormat, String)

    public var description: String {
        switch self {
        case .unsupported(let message): return message
        case .badRequest(_, let message): return message
        }
    }
}

/// Lambda HTTP events ↔ `HostRequest` / `HostResponse`. Pure functions, no I/O, no MCP.
///
/// Payload 2.0 (Function URL, HTTP API): header names arrive lower-cased with repeated values
/// joined by commas, cookies split out into `cookies`, the query string raw. Payload 1.0 (REST
/// API): header names as sent, repeated values in `multiValueHeaders`, query values decoded.
public enum LambdaEventCodec {
    /// Lambda's limit on a buffered (non-streamed) response payload.
    public static let maxBufferedPayloadBytes = 6 * 1024 * 1024

    // MARK: events → requests

    public static func decode(
        _ event: [UInt8], requestID: String, deadline: ContinuousClock.Instant?
    ) throws(LambdaEventError) -> LambdaHTTPEvent {
        let json: JSONValue
        do {
            json = try JSONValue.parse(event)
        } catch {
            throw .unsupported("the event is not JSON: \(error)")
        }
        guard let object = json.objectValue else {
            throw .unsupported("the event is not a JSON object (got \(json.typeName))")
        }
        if object["version"]?.stringValue == "2.0", let http = object["requestContext"]?["http"]?.objectValue {
            return try decodeV2(object, http: http, requestID: requestID, deadline: deadline)
        }
        if let method = object["httpMethod"]?.stringValue {
            return try decodeV1(object, method: method, requestID: requestID, deadline: deadline)
        }
        throw .unsupported(
            "not an HTTP event: expected a Function URL / API Gateway HTTP API event (version 2.0) "
                + "or an API Gateway REST API proxy event (httpMethod)")
    }

    static func decodeV2(
        _ event: JSONObject, http: JSONObject, requestID: String, deadline: ContinuousClock.Instant?
    ) throws(LambdaEventError) -> LambdaHTTPEvent {
        let domain = event["requestContext"]?["domainName"]?.stringValue ?? ""
        let format = LambdaEventFormat.httpV2(functionURL: domain.contains(".lambda-url."))
        guard let method = http["method"]?.stringValue, !method.isEmpty else {
            throw .unsupported("requestContext.http.method is missing")
        }
        let path = event["rawPath"]?.stringValue ?? http["path"]?.stringValue ?? "/"
        let rawQuery = event["rawQueryString"]?.stringValue ?? ""
        var headers = HostHeaders()
        if let object = event["headers"]?.objectValue {
            for entry in object {
                guard let value = entry.value.stringValue else { continue }
                headers.add(lowercased(entry.key), value)
            }
        }
        if let cookies = event["cookies"]?.arrayValue, !cookies.isEmpty {
            headers.set("cookie", cookies.compactMap(\.stringValue).joined(separator: "; "))
        }
        let body = try decodeBody(event, format: format)
        let request = HostRequest(
            method: method.uppercased(), path: path.isEmpty ? "/" : path, query: rawQuery.isEmpty ? nil : rawQuery,
            headers: headers, body: body, requestID: requestID, deadline: deadline)
        return LambdaHTTPEvent(format: format, request: request)
    }

    static func decodeV1(
        _ event: JSONObject, method: String, requestID: String, deadline: ContinuousClock.Instant?
    ) throws(LambdaEventError) -> LambdaHTTPEvent {
        let format = LambdaEventFormat.apiGatewayV1
        let path = event["path"]?.stringValue ?? "/"
        var headers = HostHeaders()
        if let multi = event["multiValueHeaders"]?.objectValue, !multi.isEmpty {
            for entry in multi {
                for value in entry.value.arrayValue ?? [] {
                    if let value = value.stringValue { headers.add(lowercased(entry.key), value) }
                }
            }
        } else if let single = event["headers"]?.objectValue {
            for entry in single {
                if let value = entry.value.stringValue { headers.add(lowercased(entry.key), value) }
            }
        }
        var query: [String] = []
        if let multi = event["multiValueQueryStringParameters"]?.objectValue, !multi.isEmpty {
            for entry in multi {
                for value in entry.value.arrayValue ?? [] {
                    if let value = value.stringValue { query.append(percentEncode(entry.key) + "=" + percentEncode(value)) }
                }
            }
        } else if let single = event["queryStringParameters"]?.objectValue {
            for entry in single {
                if let value = entry.value.stringValue { query.append(percentEncode(entry.key) + "=" + percentEncode(value)) }
            }
        }
        let body = try decodeBody(event, format: format)
        let request = HostRequest(
            method: method.uppercased(), path: path.isEmpty ? "/" : path, query: query.isEmpty ? nil : query.joined(separator: "&"),
            headers: headers, body: body, requestID: requestID, deadline: deadline)
        return LambdaHTTPEvent(format: format, request: request)
    }

    static func decodeBody(_ event: JSONObject, format: LambdaEventFormat) throws(LambdaEventError) -> [UInt8] {
        guard let text = event["body"]?.stringValue else { return [] }
        guard event["isBase64Encoded"]?.boolValue == true else { return Array(text.utf8) }
        guard let bytes = Data(base64Encoded: text).map(Array.init) else {
            throw .badRequest(format, "the event's body is marked isBase64Encoded but is not valid base64")
        }
        return bytes
    }

    static func lowercased(_ name: String) -> String {
        name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } ? name.lowercased() : name
    }

    /// RFC 3986 unreserved characters stay, everything else is %XX (REST events carry decoded values).
    static func percentEncode(_ text: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: responses → payloads

    /// The buffered response payload for `format`. When it would exceed `limit` bytes (Lambda's
    /// 6 MB), the payload is a 502 JSON error saying so instead: the client gets a clear answer
    /// and the runtime never posts a payload Lambda would refuse.
    public static func bufferedPayload(
        status: Int, headers: HostHeaders, body: [UInt8], format: LambdaEventFormat, limit: Int = maxBufferedPayloadBytes
    ) -> [UInt8] {
        let payload = encodeBuffered(status: status, headers: headers, body: body, format: format)
        guard payload.count > limit else { return payload }
        let message =
            "the response (\(payload.count) bytes as a Lambda payload) exceeds the \(limit)-byte limit of buffered Lambda "
            + "responses; use a Function URL with InvokeMode RESPONSE_STREAM or ask for less"
        var errorHeaders = HostHeaders()
        errorHeaders.add("content-type", "application/json")
        return encodeBuffered(
            status: 502, headers: errorHeaders, body: JSONValue.object(["error": .string(message)]).serialized(), format: format)
    }

    static func encodeBuffered(status: Int, headers: HostHeaders, body: [UInt8], format: LambdaEventFormat) -> [UInt8] {
        var object = JSONObject()
        object["statusCode"] = .int(Int64(status))
        switch format {
        case .httpV2:
            let (joined, cookies) = joinedHeaders(headers)
            object["headers"] = .object(joined)
            if !cookies.isEmpty { object["cookies"] = .array(cookies.map(JSONValue.string)) }
        case .apiGatewayV1:
            var single = JSONObject()
            var multi = JSONObject()
            for (name, value) in headers {
                let key = lowercased(name)
                single[key] = .string(value)
                var values = multi[key]?.arrayValue ?? []
                values.append(.string(value))
                multi[key] = .array(values)
            }
            object["headers"] = .object(single)
            object["multiValueHeaders"] = .object(multi)
        }
        if let text = String(validating: body, as: UTF8.self) {
            object["body"] = .string(text)
            object["isBase64Encoded"] = .bool(false)
        } else {
            object["body"] = .string(Data(body).base64EncodedString())
            object["isBase64Encoded"] = .bool(true)
        }
        return JSONValue.object(object).serialized()
    }

    /// Payload 2.0 headers: one value per name (repeats joined by ", "), `set-cookie` moved to `cookies`.
    static func joinedHeaders(_ headers: HostHeaders) -> (JSONObject, [String]) {
        var joined = JSONObject()
        var cookies: [String] = []
        for (name, value) in headers {
            let key = lowercased(name)
            if key == "set-cookie" {
                cookies.append(value)
            } else if let existing = joined[key]?.stringValue {
                joined[key] = .string(existing + ", " + value)
            } else {
                joined[key] = .string(value)
            }
        }
        return (joined, cookies)
    }

    /// Content type of a streamed HTTP response for Function URLs.
    public static let streamingContentType = "application/vnd.awslambda.http-integration-response"

    /// The prelude of a streamed Function URL response: the status and headers as JSON, then eight
    /// NUL bytes; the raw body follows.
    public static func streamingPrelude(status: Int, headers: HostHeaders) -> [UInt8] {
        let (joined, cookies) = joinedHeaders(headers)
        var object: JSONObject = ["statusCode": .int(Int64(status)), "headers": .object(joined)]
        if !cookies.isEmpty { object["cookies"] = .array(cookies.map(JSONValue.string)) }
        var out = JSONValue.object(object).serialized()
        out.append(contentsOf: repeatElement(0, count: 8))
        return out
    }
}
