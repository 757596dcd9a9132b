import Foundation
import Logging
import MCPFronts
import MCPHostCore
import MCPJSON
import NIOConcurrencyHelpers
import XCTest

@testable import MCPFronts

/// The Lambda front without a server: event codecs, and the runtime loop driven by an in-memory
/// Runtime API client.
final class LambdaEventTests: XCTestCase {
    // MARK: events → requests

    func testFunctionURLEventBecomesARequest() throws {
        let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        let event: JSONValue = [
            "version": "2.0", "routeKey": "$default", "rawPath": "/mcp", "rawQueryString": "a=1&a=2&b=x",
            "cookies": ["c1=v1", "c2=v2"],
            "headers": ["content-type": "application/json", "Accept": "application/json, text/event-stream", "x-multi": "v1,v2"],
            "requestContext": [
                "domainName": "abc.lambda-url.us-east-1.on.aws",
                "http": ["method": "post", "path": "/mcp", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"],
            ],
            "body": .string(Data(body.utf8).base64EncodedString()), "isBase64Encoded": true,
        ]
        let decoded = try LambdaEventCodec.decode(event.serialized(), requestID: "req-1", deadline: nil)
        XCTAssertEqual(decoded.format, .httpV2(functionURL: true))
        let request = decoded.request
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.path, "/mcp")
        XCTAssertEqual(request.query, "a=1&a=2&b=x")
        XCTAssertEqual(request.requestID, "req-1")
        XCTAssertEqual(String(decoding: request.body, as: UTF8.self), body)
        XCTAssertEqual(request.headers["cookie"], "c1=v1; c2=v2")
        XCTAssertEqual(request.headers["x-multi"], "v1,v2")
        XCTAssertTrue(request.headers.entries.contains { $0.name == "accept" }, "header names are lower-cased")
    }

    func testHTTPAPIEventIsNotAFunctionURL() throws {
        let event: JSONValue = [
            "version": "2.0", "routeKey": "POST /mcp", "rawPath": "/prod/mcp", "rawQueryString": "",
            "headers": [:],
            "requestContext": ["domainName": "abc.execute-api.us-east-1.amazonaws.com", "http": ["method": "GET", "path": "/prod/mcp"]],
            "isBase64Encoded": false,
        ]
        let decoded = try LambdaEventCodec.decode(event.serialized(), requestID: "r", deadline: nil)
        XCTAssertEqual(decoded.format, .httpV2(functionURL: false))
        XCTAssertNil(decoded.request.query)
        XCTAssertEqual(decoded.request.body, [])
    }

    func testRESTEventWithRepeatedHeadersAndQueryValues() throws {
        let event: JSONValue = [
            "httpMethod": "POST", "path": "/mcp", "resource": "/mcp",
            "headers": ["X-Repeated": "two", "Content-Type": "application/json"],
            "multiValueHeaders": ["X-Repeated": ["one", "two"], "Content-Type": ["application/json"]],
            "queryStringParameters": ["q": "c&d"],
            "multiValueQueryStringParameters": ["q": ["a b", "c&d"]],
            "body": "{}", "isBase64Encoded": false,
        ]
        let decoded = try LambdaEventCodec.decode(event.serialized(), requestID: "r", deadline: nil)
        XCTAssertEqual(decoded.format, .apiGatewayV1)
        XCTAssertEqual(decoded.request.headers.values("x-repeated"), ["one", "two"])
        XCTAssertEqual(decoded.request.headers.entries.map(\.name), ["x-repeated", "x-repeated", "content-type"])
        XCTAssertEqual(decoded.request.query, "q=a%20b&q=c%26d")
        XCTAssertEqual(decoded.request.body, Array("{}".utf8))
    }

    func testInvalidBase64IsABadRequestInTheEventsFormat() {
        let event: JSONValue = [
            "httpMethod": "POST", "path": "/mcp", "body": "eyJh*not base64*", "isBase64Encoded": true,
        ]
        XCTAssertThrowsError(try LambdaEventCodec.decode(event.serialized(), requestID: "r", deadline: nil)) { error in
            guard case .badRequest(let format, let message) = error as? LambdaEventError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(format, .apiGatewayV1)
            XCTAssertTrue(message.contains("base64"), message)
        }
    }

    func testNonHTTPEventsAreUnsupported() {
        for event in [#"{"Records":[]}"#, "[1,2]", "not json"] {
            XCTAssertThrowsError(try LambdaEventCodec.decode(Array(event.utf8), requestID: "r", deadline: nil)) { error in
                guard case .unsupported = error as? LambdaEventError else { return XCTFail("\(event): \(error)") }
            }
        }
    }

    // MARK: responses → payloads

    func testBufferedPayloadV2JoinsHeadersAndSplitsCookies() throws {
        var headers = HostHeaders()
        headers.add("Content-Type", "application/json")
        headers.add("Vary", "origin")
        headers.add("Vary", "accept")
        headers.add("Set-Cookie", "a=1; Path=/")
        headers.add("set-cookie", "b=2")
        let payload = try JSONValue.parse(
            LambdaEventCodec.bufferedPayload(status: 201, headers: headers, body: Array("{}".utf8), format: .httpV2(functionURL: true)))
        XCTAssertEqual(payload["statusCode"], 201)
        XCTAssertEqual(payload["headers"], ["content-type": "application/json", "vary": "origin, accept"])
        XCTAssertEqual(payload["cookies"], ["a=1; Path=/", "b=2"])
        XCTAssertEqual(payload["body"], "{}")
        XCTAssertEqual(payload["isBase64Encoded"], false)
    }

    func testBufferedPayloadV1HasMultiValueHeadersAndBase64ForBinary() throws {
        var headers = HostHeaders()
        headers.add("X-A", "1")
        headers.add("x-a", "2")
        let binary: [UInt8] = [0xFF, 0x00, 0xC3]
        let payload = try JSONValue.parse(
            LambdaEventCodec.bufferedPayload(status: 200, headers: headers, body: binary, format: .apiGatewayV1))
        XCTAssertEqual(payload["multiValueHeaders"], ["x-a": ["1", "2"]])
        XCTAssertEqual(payload["headers"], ["x-a": "2"])
        XCTAssertEqual(payload["isBase64Encoded"], true)
        XCTAssertEqual(payload["body"]?.stringValue.flatMap { Data(base64Encoded: $0).map(Array.init) }, binary)
        XCTAssertNil(payload["cookies"])
    }

    func testOversizeBufferedPayloadBecomesA502() throws {
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 2_000)
        let raw = LambdaEventCodec.bufferedPayload(
            status: 200, headers: ["content-type": "text/plain"], body: body, format: .httpV2(functionURL: false), limit: 1_000)
        XCTAssertLessThan(raw.count, 1_000)
        let payload = try JSONValue.parse(raw)
        XCTAssertEqual(payload["statusCode"], 502)
        let error = try JSONValue.parse(payload["body"]?.stringValue ?? "")["error"]?.stringValue ?? ""
        XCTAssertTrue(error.contains("1000-byte limit"), error)
    }

    func testStreamingPrelude() throws {
        var headers = HostHeaders()
        headers.add("content-type", "text/event-stream")
        headers.add("set-cookie", "s=1")
        let prelude = LambdaEventCodec.streamingPrelude(status: 200, headers: headers)
        XCTAssertEqual(Array(prelude.suffix(8)), [UInt8](repeating: 0, count: 8))
        XCTAssertFalse(prelude.dropLast(8).contains(0))
        let json = try JSONValue.parse(Array(prelude.dropLast(8)))
        XCTAssertEqual(json, ["statusCode": 200, "headers": ["content-type": "text/event-stream"], "cookies": ["s=1"]])
    }

    // MARK: the runtime loop

    func testStreamedAnswerGoesOutAsPreludeThenChunks() async throws {
        let client = FakeRuntimeClient([FakeRuntimeClient.functionURLEvent(id: "s1", deadlineIn: 5_000)])
        let handler = ClosureHandler { _ in
            let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
            Task {
                for index in 1...3 {
                    continuation.yield(Array("data: \(index)\n\n".utf8))
                    try? await Task.sleep(for: .milliseconds(5))
                }
                continuation.finish()
            }
            return HostResponse(
                status: 200, headers: ["content-type": "text/event-stream"],
                body: .stream(HostResponseStream(chunks: stream, onClientGone: {})))
        }
        try await run(client, handler)
        let streamed = try XCTUnwrap(client.streams["s1"])
        XCTAssertEqual(streamed.contentType, LambdaEventCodec.streamingContentType)
        XCTAssertEqual(streamed.chunks.count, 4, "prelude + three chunks, each written as it came")
        XCTAssertEqual(streamed.chunks[0], LambdaEventCodec.streamingPrelude(status: 200, headers: ["content-type": "text/event-stream"]))
        XCTAssertEqual(String(decoding: streamed.chunks[1...].joined(), as: UTF8.self), "data: 1\n\ndata: 2\n\ndata: 3\n\n")
        XCTAssertEqual(streamed.end, .finished)
    }

    func testHandlerPastTheDeadlineIsAnInvocationErrorAndTheLoopGoesOn() async throws {
        let client = FakeRuntimeClient([
            FakeRuntimeClient.restEvent(id: "slow", path: "/hang", deadlineIn: 300),
            FakeRuntimeClient.restEvent(id: "next", path: "/fast", deadlineIn: 5_000),
        ])
        let sawDeadline = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
        let handler = ClosureHandler { request in
            if request.path == "/hang" {
                sawDeadline.withLockedValue { $0 = request.deadline }
                // Ignores cancellation: the loop must not wait for it.
                let until = ContinuousClock.now + .seconds(3)
                while ContinuousClock.now < until { try? await Task.sleep(for: .milliseconds(50)) }
            }
            return HostResponse(status: 200, body: .bytes(Array("ok".utf8)))
        }
        let started = ContinuousClock.now
        try await run(client, handler)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        XCTAssertEqual(client.errors["slow"]?.errorType, "Runtime.DeadlineExceeded")
        XCTAssertNil(client.responses["slow"])
        let deadline = try XCTUnwrap(sawDeadline.withLockedValue { $0 }, "the request carries the invocation deadline")
        XCTAssertLessThan(deadline - started, .milliseconds(300))
        let payload = try JSONValue.parse(try XCTUnwrap(client.responses["next"]))
        XCTAssertEqual(payload["statusCode"], 200)
        XCTAssertEqual(payload["body"], "ok")
    }

    func testUnsupportedAndBadEventsAreAnsweredAndTheLoopGoesOn() async throws {
        var bad = FakeRuntimeClient.restEvent(id: "bad64", path: "/mcp", deadlineIn: 5_000)
        bad.event = Array(#"{"httpMethod":"POST","path":"/mcp","body":"***","isBase64Encoded":true}"#.utf8)
        let client = FakeRuntimeClient([
            LambdaInvocation(requestID: "s3", deadlineUnixMs: nil, event: Array(#"{"Records":[]}"#.utf8)),
            bad,
            FakeRuntimeClient.restEvent(id: "ok", path: "/mcp", deadlineIn: 5_000),
        ])
        let calls = NIOLockedValueBox(0)
        try await run(client, ClosureHandler { _ in
            calls.withLockedValue { $0 += 1 }
            return HostResponse(status: 204)
        })
        XCTAssertEqual(client.errors["s3"]?.errorType, "Runtime.UnsupportedEvent")
        XCTAssertEqual(try JSONValue.parse(try XCTUnwrap(client.responses["bad64"]))["statusCode"], 400)
        XCTAssertEqual(try JSONValue.parse(try XCTUnwrap(client.responses["ok"]))["statusCode"], 204)
        XCTAssertEqual(calls.withLockedValue { $0 }, 1, "only the valid event reached the handler")
    }

    func testBufferedModeCollectsAStreamedAnswer() async throws {
        let client = FakeRuntimeClient([FakeRuntimeClient.functionURLEvent(id: "b", deadlineIn: 5_000)])
        let handler = ClosureHandler { _ in
            let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
            continuation.yield(Array("a".utf8))
            continuation.yield(Array("b".utf8))
            continuation.finish()
            return HostResponse(status: 200, body: .stream(HostResponseStream(chunks: stream, onClientGone: {})))
        }
        var settings = LambdaRuntime.Settings()
        settings.responseMode = .buffered
        try await run(client, handler, settings: settings)
        XCTAssertNil(client.streams["b"])
        XCTAssertEqual(try JSONValue.parse(try XCTUnwrap(client.responses["b"]))["body"], "ab")
    }

    func testEndlessStreamIsCutWithErrorTrailersAtTheDeadline() async throws {
        let client = FakeRuntimeClient([FakeRuntimeClient.functionURLEvent(id: "endless", deadlineIn: 400)])
        let gone = NIOLockedValueBox(false)
        let handler = ClosureHandler { _ in
            let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
            continuation.yield(Array(": open\n\n".utf8))
            return HostResponse(
                status: 200, headers: ["content-type": "text/event-stream"],
                body: .stream(HostResponseStream(chunks: stream, onClientGone: { gone.withLockedValue { $0 = true }; continuation.finish() })))
        }
        try await run(client, handler)
        let streamed = try XCTUnwrap(client.streams["endless"])
        XCTAssertEqual(streamed.end, .failed("Runtime.DeadlineExceeded"))
        XCTAssertTrue(gone.withLockedValue { $0 }, "the producer is told the client is gone")
    }

    private func run(
        _ client: FakeRuntimeClient, _ handler: HostRequestHandler, settings: LambdaRuntime.Settings = .init()
    ) async throws {
        let runtime = LambdaRuntime(client: client, handler: handler, settings: settings, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        do {
            try await runtime.run()
            XCTFail("the loop ends only when next() fails")
        } catch is FakeRuntimeClient.Exhausted {}
    }
}

struct ClosureHandler: HostRequestHandler {
    let body: @Sendable (HostRequest) async -> HostResponse
    init(_ body: @escaping @Sendable (HostRequest) async -> HostResponse) { self.body = body }
    func handle(_ request: HostRequest) async -> HostResponse { await body(request) }
}

/// An in-memory Runtime API: hands out queued invocations, records every answer.
final class FakeRuntimeClient: LambdaRuntimeClient {
    struct Exhausted: Error {}
    enum StreamEnd: Equatable { case open, finished, failed(String) }
    struct Streamed {
        var contentType: String
        var chunks: [[UInt8]] = []
        var end = StreamEnd.open
    }
    private struct State {
        var queue: [LambdaInvocation]
        var responses: [String: [UInt8]] = [:]
        var errors: [String: LambdaErrorReport] = [:]
        var streams: [String: Streamed] = [:]
        var initErrors: [LambdaErrorReport] = []
    }
    private let state: NIOLockedValueBox<State>

    init(_ invocations: [LambdaInvocation]) { state = NIOLockedValueBox(State(queue: invocations)) }

    var responses: [String: [UInt8]] { state.withLockedValue { $0.responses } }
    var errors: [String: LambdaErrorReport] { state.withLockedValue { $0.errors } }
    var streams: [String: Streamed] { state.withLockedValue { $0.streams } }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func functionURLEvent(id: String, deadlineIn ms: Int64) -> LambdaInvocation {
        let event: JSONValue = [
            "version": "2.0", "rawPath": "/mcp", "rawQueryString": "", "headers": ["accept": "text/event-stream"],
            "requestContext": ["domainName": "x.lambda-url.eu-west-1.on.aws", "http": ["method": "GET", "path": "/mcp"]],
            "isBase64Encoded": false,
        ]
        return LambdaInvocation(requestID: id, deadlineUnixMs: nowMs() + ms, event: event.serialized())
    }

    static func restEvent(id: String, path: String, deadlineIn ms: Int64) -> LambdaInvocation {
        let event: JSONValue = ["httpMethod": "POST", "path": .string(path), "headers": [:], "body": "{}"]
        return LambdaInvocation(requestID: id, deadlineUnixMs: nowMs() + ms, event: event.serialized())
    }

    func next() async throws -> LambdaInvocation {
        guard let next = state.withLockedValue({ $0.queue.isEmpty ? nil : $0.queue.removeFirst() }) else { throw Exhausted() }
        // Fresh deadlines relative to when the invocation is handed out.
        return next
    }

    func respond(requestID: String, payload: [UInt8]) async throws {
        state.withLockedValue { $0.responses[requestID] = payload }
    }

    func streamResponse(requestID: String, contentType: String) async throws -> LambdaResponseWriter {
        state.withLockedValue { $0.streams[requestID] = Streamed(contentType: contentType) }
        return Writer(client: self, id: requestID)
    }

    func error(requestID: String, _ error: LambdaErrorReport) async throws {
        state.withLockedValue { $0.errors[requestID] = error }
    }

    func initError(_ error: LambdaErrorReport) async throws {
        state.withLockedValue { $0.initErrors.append(error) }
    }

    struct Writer: LambdaResponseWriter {
        let client: FakeRuntimeClient
        let id: String
        func write(_ bytes: [UInt8]) async throws { client.state.withLockedValue { $0.streams[id]?.chunks.append(bytes) } }
        func finish() async throws { client.state.withLockedValue { $0.streams[id]?.end = .finished } }
        func fail(_ error: LambdaErrorReport) async throws {
            client.state.withLockedValue { $0.streams[id]?.end = .failed(error.errorType) }
        }
    }
}
