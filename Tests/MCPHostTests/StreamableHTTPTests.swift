import MCPHostCore
import MCPJSON
import XCTest

/// The DESIGN.md protocol checklist, request by request, through the same router the HTTP front uses.
final class StreamableHTTPTests: XCTestCase {
    var host: TestHost!

    override func setUp() async throws {
        host = try TestHost()
    }

    // MARK: 2026-07-28

    func testDiscoverListsVersionsCapabilitiesAndServerInfo() async throws {
        let response = await host.stateless("server/discover")
        XCTAssertEqual(response.status, 200)
        let result = try XCTUnwrap(response.json()["result"])
        XCTAssertEqual(result["resultType"], "complete")
        XCTAssertEqual(result["supportedVersions"], ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
        XCTAssertNotNil(result.at("capabilities", "tools"))
        XCTAssertEqual(result.at("_meta", "io.modelcontextprotocol/serverInfo", "name"), "mcp-host")
        XCTAssertNotNil(result["ttlMs"]?.intValue)
        XCTAssertEqual(result["cacheScope"], "private")
    }

    func testToolsListIsNamespacedSortedCacheableAndPaginated() async throws {
        let all = try await host.stateless("tools/list").json()
        let names = all.at("result", "tools")?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        XCTAssertEqual(names, names.sorted())
        XCTAssertTrue(names.contains("echo.echo") && names.contains("cecho.echo") && names.contains("faults.hang"), "\(names)")
        XCTAssertTrue(names.allSatisfy { $0.range(of: #"^[A-Za-z0-9_.-]{1,128}$"#, options: .regularExpression) != nil })
        XCTAssertEqual(all.at("result", "resultType"), "complete")
        XCTAssertNotNil(all.at("result", "ttlMs"))
        XCTAssertNil(all.at("result", "nextCursor"))

        let paged = try TestHost { $0.server.toolsPageSize = 3 }
        var seen: [String] = []
        var cursor: JSONValue?
        repeat {
            var params: JSONObject = [:]
            if let cursor { params["cursor"] = cursor }
            let page = try await paged.stateless("tools/list", params).json()
            seen += page.at("result", "tools")?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            cursor = page.at("result", "nextCursor")
        } while cursor != nil
        XCTAssertEqual(seen, names)

        let bad = await host.stateless("tools/list", ["cursor": "not-a-cursor"])
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(try bad.json().at("error", "code"), -32602)
    }

    func testToolCallReturnsStructuredContentAndText() async throws {
        let response = await host.stateless("tools/call", ["name": "echo.add", "arguments": ["a": 2, "b": 0.5]])
        let result = try XCTUnwrap(response.json()["result"])
        XCTAssertEqual(result.at("structuredContent", "sum")?.doubleValue, 2.5)
        XCTAssertEqual(result.at("content", 0, "type"), "text")
        XCTAssertEqual(result["isError"], false)
        XCTAssertEqual(result["resultType"], "complete")
    }

    func testArgumentsAreValidatedAgainstInputSchemaAsIsErrorResults() async throws {
        let wrongType = try await host.stateless("tools/call", ["name": "echo.add", "arguments": ["a": "two", "b": 1]]).json()
        XCTAssertEqual(wrongType.at("result", "isError"), true)
        let text = wrongType.at("result", "content", 0, "text")?.stringValue ?? ""
        XCTAssertTrue(text.contains("/a"), text)
        let missing = try await host.stateless("tools/call", ["name": "echo.echo", "arguments": [:]]).json()
        XCTAssertTrue(missing.at("result", "content", 0, "text")?.stringValue?.contains("message") ?? false)
        let notObject = await host.stateless("tools/call", ["name": "echo.echo", "arguments": [1, 2]])
        XCTAssertEqual(notObject.status, 400)
        XCTAssertEqual(try notObject.json().at("error", "code"), -32602)
        let unknown = await host.stateless("tools/call", ["name": "echo.nope"])
        XCTAssertEqual(try unknown.json().at("error", "code"), -32602)
    }

    func testRoutingHeadersMustMatchTheBody() async throws {
        let wrongName = await host.stateless(
            "tools/call", ["name": "echo.echo", "arguments": ["message": "x"]], headers: [("mcp-name", "echo.add")])
        XCTAssertEqual(wrongName.status, 400)
        XCTAssertEqual(try wrongName.json().at("error", "code"), -32020)
        let wrongMethod = await host.stateless("tools/list", headers: [("mcp-method", "tools/call")])
        XCTAssertEqual(try wrongMethod.json().at("error", "code"), -32020)
        let base64Name = await host.stateless(
            "tools/call", ["name": "echo.echo", "arguments": ["message": "x"]],
            headers: [("mcp-name", "=?base64?ZWNoby5lY2hv?=")])
        XCTAssertEqual(base64Name.status, 200)
        // A request with _meta but no MCP-Protocol-Version header.
        let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#
        let noHeader = await host.post(body, headers: [("mcp-method", "tools/list")])
        XCTAssertEqual(noHeader.status, 400)
        XCTAssertEqual(try noHeader.json().at("error", "code"), -32020)
    }

    func testUnsupportedVersionMissingMetaAndUnknownMethod() async throws {
        let unsupported = await host.stateless("tools/list", headers: [("mcp-protocol-version", "1999-01-01")])
        XCTAssertEqual(unsupported.status, 400)
        let error = try unsupported.json()["error"]
        XCTAssertEqual(error?["code"], -32022)
        XCTAssertEqual(error?.at("data", "requested"), "1999-01-01")
        XCTAssertEqual(error?.at("data", "supported", 0), "2026-07-28")

        let noMeta = await host.stateless("tools/list", ["_meta": ["io.modelcontextprotocol/protocolVersion": "2026-07-28"]])
        XCTAssertEqual(noMeta.status, 400)
        XCTAssertEqual(try noMeta.json().at("error", "code"), -32602)

        let unknown = await host.stateless("resources/list")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(try unknown.json().at("error", "code"), -32601)
        let ping = await host.stateless("ping")
        XCTAssertEqual(ping.status, 404)
    }

    func testStatelessRejectsGETDELETEAndBatches() async throws {
        for method in ["GET", "DELETE"] {
            let response = await host.send(
                HostRequest(method: method, path: "/mcp", headers: ["mcp-protocol-version": "2026-07-28", "accept": "text/event-stream"]))
            XCTAssertEqual(response.status, 405, method)
            XCTAssertEqual(response.headers["allow"], "POST")
        }
        let batch = await host.post("[]", headers: [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list")])
        XCTAssertEqual(batch.status, 400)
        XCTAssertEqual(try batch.json().at("error", "code"), -32600)
    }

    func testProgressStreamsOverSSEInIncreasingOrderBeforeTheResult() async throws {
        var meta = TestHost.meta.objectValue!
        meta["progressToken"] = "tok-1"
        let response = await host.stateless("tools/call", ["name": "echo.count", "arguments": ["to": 4], "_meta": .object(meta)])
        XCTAssertEqual(response.headers["content-type"], "text/event-stream")
        XCTAssertEqual(response.headers["x-accel-buffering"], "no")
        let events = try await response.events()
        let progress = events.filter { $0["method"] == "notifications/progress" }
        XCTAssertEqual(progress.compactMap { $0.at("params", "progress")?.doubleValue }, [1, 2, 3, 4])
        XCTAssertTrue(progress.allSatisfy { $0.at("params", "progressToken") == "tok-1" && $0.at("params", "total") == 4 })
        XCTAssertEqual(events.last?.at("result", "structuredContent", "counted"), 4)
    }

    func testClosingTheSSEStreamCancelsAStatelessCall() async throws {
        var meta = TestHost.meta.objectValue!
        meta["progressToken"] = 7
        let response = await host.stateless("tools/call", ["name": "echo.count", "arguments": ["to": 100, "delay_ms": 50], "_meta": .object(meta)])
        guard case .stream(let stream) = response.body else { return XCTFail("expected SSE") }
        var received = 0
        for await _ in stream.chunks {
            received += 1
            if received == 2 { stream.clientGone(); break }
        }
        // The plugin stops: no more progress is produced after the client went away.
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertLessThan(received, 10)
    }

    // MARK: 2025-x sessions

    func testSessionLifecycle() async throws {
        let response = await host.post(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        let session = try XCTUnwrap(response.headers["mcp-session-id"])
        XCTAssertGreaterThanOrEqual(session.count, 32)
        XCTAssertTrue(session.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E })
        XCTAssertEqual(try response.json().at("result", "protocolVersion"), "2025-06-18")

        let list = try await host.sessionCall(session, version: "2025-06-18", #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#).json()
        XCTAssertNotNil(list.at("result", "tools", 0, "name"))
        XCTAssertNil(list.at("result", "resultType"))
        let ping = try await host.sessionCall(session, version: "2025-06-18", #"{"jsonrpc":"2.0","id":3,"method":"ping"}"#).json()
        XCTAssertEqual(ping["result"], [:])

        let missing = await host.post(#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#)
        XCTAssertEqual(missing.status, 400)
        let unknown = await host.post(#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#, headers: [("mcp-session-id", "nope")])
        XCTAssertEqual(unknown.status, 404)
        let wrongVersion = await host.sessionCall(session, version: "2025-11-25", #"{"jsonrpc":"2.0","id":5,"method":"ping"}"#)
        XCTAssertEqual(wrongVersion.status, 400)
        let unsupported = await host.sessionCall(session, version: "2024-01-01", #"{"jsonrpc":"2.0","id":5,"method":"ping"}"#)
        XCTAssertEqual(unsupported.status, 400)

        let delete = await host.send(HostRequest(method: "DELETE", path: "/mcp", headers: ["mcp-session-id": session]))
        XCTAssertEqual(delete.status, 200)
        let after = await host.sessionCall(session, version: "2025-06-18", #"{"jsonrpc":"2.0","id":6,"method":"ping"}"#)
        XCTAssertEqual(after.status, 404)
    }

    func testUnknownInitializeVersionGetsTheNewestSessionRevision() async throws {
        let response = await host.post(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2099-01-01","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        XCTAssertEqual(try response.json().at("result", "protocolVersion"), "2025-11-25")
    }

    func testBatchesOnlyFor20250326() async throws {
        let modern = try await host.startSession(version: "2025-06-18")
        let rejected = await host.sessionCall(modern, version: "2025-06-18", #"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)
        XCTAssertEqual(rejected.status, 400)
        let old = try await host.startSession(version: "2025-03-26")
        let accepted = try await host.sessionCall(
            old, version: "2025-03-26",
            #"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]"#
        ).json()
        XCTAssertEqual(accepted.arrayValue?.count, 2)
        XCTAssertEqual(accepted.at(0, "id"), 1)
        XCTAssertNotNil(accepted.at(1, "result", "tools"))
    }

    func testNotificationsAndResponsesAre202() async throws {
        let session = try await host.startSession()
        let notification = await host.sessionCall(session, #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}"#)
        XCTAssertEqual(notification.status, 202)
        guard case .empty = notification.body else { return XCTFail("202 must have no body") }
        let response = await host.sessionCall(session, #"{"jsonrpc":"2.0","id":"srv-1","result":{}}"#)
        XCTAssertEqual(response.status, 202)
    }

    func testSSEAnswerWithEventIdsAndResumeWithLastEventID() async throws {
        let session = try await host.startSession(version: "2025-11-25")
        let body = #"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo.count","arguments":{"to":3},"_meta":{"progressToken":"p"}}}"#
        let response = await host.sessionCall(session, body, accept: "text/event-stream")
        guard case .stream(let stream) = response.body else { return XCTFail("expected SSE") }
        var text = ""
        for await chunk in stream.chunks { text += String(decoding: chunk, as: UTF8.self) }
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
        XCTAssertEqual(Set(ids).count, ids.count, "event ids must be unique")
        XCTAssertGreaterThanOrEqual(ids.count, 5)  // priming + 3 progress + result
        XCTAssertTrue(text.contains(#""counted":3"#))

        // Resume after the second event: only the rest of that stream is replayed.
        let resume = await host.send(
            HostRequest(method: "GET", path: "/mcp", headers: [
                "accept": "text/event-stream", "mcp-session-id": session, "mcp-protocol-version": "2025-11-25",
                "last-event-id": ids[1],
            ]))
        let replayed = try await resume.events()
        XCTAssertEqual(replayed.count, 3)  // progress 2, progress 3, result
        XCTAssertEqual(replayed.last?.at("result", "structuredContent", "counted"), 3)
    }

    func testGETOpensAServerStreamAndNeedsTheRightAccept() async throws {
        let session = try await host.startSession()
        let notAcceptable = await host.send(HostRequest(method: "GET", path: "/mcp", headers: ["accept": "application/json", "mcp-session-id": session]))
        XCTAssertEqual(notAcceptable.status, 406)
        let stream = await host.send(HostRequest(method: "GET", path: "/mcp", headers: ["accept": "text/event-stream", "mcp-session-id": session]))
        XCTAssertEqual(stream.status, 200)
        XCTAssertEqual(stream.headers["content-type"], "text/event-stream")
        if case .stream(let body) = stream.body { body.clientGone() }
        let put = await host.send(HostRequest(method: "PUT", path: "/mcp"))
        XCTAssertEqual(put.status, 405)
    }

    func testNotificationsCancelledStopsARunningRequest() async throws {
        let host = self.host!
        let session = try await host.startSession()
        let started = ContinuousClock.now
        async let answer = host.sessionCall(
            session, #"{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"faults.hang"}}"#, accept: "application/json")
        try await Task.sleep(for: .milliseconds(100))
        let cancel = await host.sessionCall(session, #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow"}}"#)
        XCTAssertEqual(cancel.status, 202)
        // A cancelled request is not answered: the exchange ends with 202 and no JSON-RPC message.
        let response = await answer
        XCTAssertEqual(response.status, 202)
        guard case .empty = response.body else { return XCTFail("a cancelled request must not be answered") }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
    }

    func testLoggingSetLevelSendsLogMessagesOnTheRequestStream() async throws {
        let session = try await host.startSession()
        let set = try await host.sessionCall(session, #"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"warning"}}"#).json()
        XCTAssertEqual(set["result"], [:])
        let bad = try await host.sessionCall(session, #"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"loud"}}"#).json()
        XCTAssertEqual(bad.at("error", "code"), -32602)
        let response = await host.sessionCall(session, #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"faults.tool_error"}}"#)
        let events = try await response.events()
        let log = events.first { $0["method"] == "notifications/message" }
        XCTAssertEqual(log?.at("params", "level"), "warning")
        XCTAssertEqual(events.last?.at("result", "isError"), true)
    }

    // MARK: bad input at the envelope

    func testEnvelopeErrors() async throws {
        let invalidJSON = await host.post("{not json")
        XCTAssertEqual(invalidJSON.status, 400)
        XCTAssertEqual(try invalidJSON.json().at("error", "code"), -32700)
        let notObject = await host.post(#""hello""#, headers: [("mcp-session-id", "x")])
        XCTAssertEqual(try notObject.json().at("error", "code"), -32600)
        let session = try await host.startSession()
        let badParams = try await host.sessionCall(session, #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}"#).json()
        XCTAssertEqual(badParams.at("error", "code"), -32602)
        let paramsNotObject = try await host.sessionCall(session, #"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":[1]}"#).json()
        XCTAssertEqual(paramsNotObject.at("error", "code"), -32602)
        let unknownMethod = try await host.sessionCall(session, #"{"jsonrpc":"2.0","id":3,"method":"nope/nope"}"#).json()
        XCTAssertEqual(unknownMethod.at("error", "code"), -32601)
        let wrongType = await host.send(HostRequest(method: "POST", path: "/mcp", headers: ["content-type": "text/plain"], body: Array("{}".utf8)))
        XCTAssertEqual(wrongType.status, 415)
        let notAcceptable = await host.stateless("tools/list", accept: "text/html")
        XCTAssertEqual(notAcceptable.status, 406)
        let noAccept = await host.send(HostRequest(
            method: "POST", path: "/mcp",
            headers: ["content-type": "application/json", "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list"],
            body: Array(#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#.utf8)))
        XCTAssertEqual(noAccept.status, 406)
        var twice: HostHeaders = [
            "content-type": "application/json", "accept": "application/json", "mcp-protocol-version": "2026-07-28",
            "mcp-method": "tools/list",
        ]
        twice.add("mcp-method", "tools/list")
        let duplicated = await host.send(HostRequest(
            method: "POST", path: "/mcp", headers: twice,
            body: Array(#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#.utf8)))
        XCTAssertEqual(try duplicated.json().at("error", "code"), -32020)
        let deep = String(repeating: "[", count: 5000)
        let nested = await host.post(deep)
        XCTAssertEqual(try nested.json().at("error", "code"), -32700)
    }

    func testOriginCORSAndBodyLimitAtTheGate() async throws {
        let evil = await host.send(HostRequest(method: "POST", path: "/mcp", headers: ["origin": "https://evil.example"], body: Array("{}".utf8)))
        XCTAssertEqual(evil.status, 403)
        let local = await host.stateless("tools/list", headers: [("origin", "http://localhost:5173")])
        XCTAssertEqual(local.status, 200)
        XCTAssertEqual(local.headers["access-control-allow-origin"], "http://localhost:5173")
        let preflight = await host.send(HostRequest(method: "OPTIONS", path: "/mcp", headers: ["origin": "http://127.0.0.1:3000"]))
        XCTAssertEqual(preflight.status, 204)
        XCTAssertTrue(preflight.headers["access-control-allow-headers"]?.contains("mcp-session-id") ?? false)

        let allowed = try TestHost { $0.server.allowedOrigins = ["https://app.example.com"] }
        let listed = await allowed.stateless("tools/list", headers: [("origin", "https://app.example.com")])
        XCTAssertEqual(listed.status, 200)

        let small = try TestHost { $0.server.maxBodyBytes = 1024 }
        let big = await small.stateless("tools/call", ["name": "echo.echo", "arguments": ["message": .string(String(repeating: "x", count: 2000))]])
        XCTAssertEqual(big.status, 413)
        let notFound = await host.send(HostRequest(method: "GET", path: "/elsewhere"))
        XCTAssertEqual(notFound.status, 404)
    }
}
