import Logging
import MCPJSON
import MCPPlugins
import NIOCore
import NIOPosix
import XCTest

/// Plugins that throw, hang, or return garbage: each gets a clear answer, and the host goes on.
final class FaultTests: XCTestCase {
    func testEachFaultIsAnsweredAndTheHostKeepsServing() async throws {
        let host = try TestHost { $0.server.callTimeoutMs = 300 }

        let toolError = try await host.stateless("tools/call", ["name": "faults.tool_error"]).json()
        XCTAssertEqual(toolError.at("result", "isError"), true)
        XCTAssertEqual(toolError.at("result", "content", 0, "text"), "tool failed on purpose")

        let internalError = try await host.stateless("tools/call", ["name": "faults.internal_error"]).json()
        XCTAssertEqual(internalError.at("error", "code"), -32603)
        XCTAssertTrue(internalError.at("error", "message")?.stringValue?.contains("internal failure on purpose") ?? false)

        let started = ContinuousClock.now
        let hang = try await host.stateless("tools/call", ["name": "faults.hang"]).json()
        let waited = ContinuousClock.now - started
        XCTAssertEqual(hang.at("result", "isError"), true)
        XCTAssertTrue(hang.at("result", "content", 0, "text")?.stringValue?.contains("deadline") ?? false, "\(hang)")
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(290))
        XCTAssertLessThan(waited, .seconds(3))

        for tool in ["faults.garbage", "faults.wrong_shape", "faults.bad_structured"] {
            let answer = try await host.stateless("tools/call", ["name": .string(tool)]).json()
            XCTAssertEqual(answer.at("error", "code"), -32603, tool)
            XCTAssertFalse(host.logs.text.isEmpty)
        }

        let echo = try await host.stateless("tools/call", ["name": "echo.echo", "arguments": ["message": "alive"]]).json()
        XCTAssertEqual(echo.at("result", "content", 0, "text"), "alive")
        XCTAssertTrue(host.logs.text.contains("plugin returned invalid JSON"))
    }

    /// What a plugin returns is judged as JSON reads it (a repeated member: the last one counts),
    /// whether the host checks it by skimming or by parsing, and forwarded byte for byte when it
    /// passes (escapes and all).
    func testResultsWithRepeatsEscapesAndForeignMembers() async throws {
        let host = try TestHost()
        func reply(_ n: Int) async throws -> (JSONValue, String) {
            let response = await host.stateless("tools/call", ["name": "faults.reply", "arguments": ["n": .int(Int64(n))]])
            let answer = try response.json()
            guard case .bytes(let bytes) = response.body else { return (answer, "") }
            return (answer, String(decoding: bytes, as: UTF8.self))
        }
        for n in [0, 3, 8, 9, 10, 11, 12] {
            let (answer, _) = try await reply(n)
            XCTAssertEqual(answer.at("error", "code"), -32603, "reply \(n): \(answer)")
        }
        let (second, _) = try await reply(1)
        XCTAssertEqual(second.at("result", "content", 0, "text"), "second")
        XCTAssertEqual(second.at("result", "structuredContent", "n"), 1)
        let (typed, _) = try await reply(2)
        XCTAssertEqual(typed.at("result", "content", 0, "text"), "typed")
        let (failed, _) = try await reply(4)
        XCTAssertEqual(failed.at("result", "isError"), true)
        XCTAssertEqual(failed.at("result", "content", 0, "text"), "failed")
        let (escaped, raw) = try await reply(5)
        XCTAssertEqual(escaped.at("result", "content", 0, "text"), "caf\u{E9} \u{E9}")
        XCTAssertTrue(escaped.at("result", "structuredContent", "n")?.jsonEquals(5) ?? false)
        XCTAssertTrue(raw.contains(#""text":"caf\u00e9 é"}],"structuredContent":{"n":5e0}"#), raw)
        XCTAssertEqual(escaped.at("result", "resultType"), "complete")
        let (meta, _) = try await reply(6)
        XCTAssertEqual(meta.at("result", "resultType"), "complete")
        XCTAssertNil(meta.at("result", "_meta", "x"))
        XCTAssertNotNil(meta.at("result", "_meta", "io.modelcontextprotocol/serverInfo"))
        let (plain, plainRaw) = try await reply(7)
        XCTAssertEqual(plain.at("result", "content", 0, "text"), "plain \"quoted\" \n")
        XCTAssertTrue(plainRaw.contains(#""text":"plain \"quoted\" \n"}],"structuredContent":{"n":7}"#), plainRaw)

        // 2025-03-26 has no structuredContent: it is dropped from the same bytes.
        let session = try await host.startSession(version: "2025-03-26")
        let old = try await host.sessionCall(
            session, version: "2025-03-26",
            #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"faults.reply","arguments":{"n":7}}}"#
        ).json()
        XCTAssertEqual(old.at("result", "content", 0, "text"), "plain \"quoted\" \n")
        XCTAssertNil(old.at("result", "structuredContent"))
    }

    func testManyConcurrentHangsAllTimeOut() async throws {
        let host = try TestHost { $0.server.callTimeoutMs = 200 }
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for _ in 0..<50 {
                group.addTask { try await host.stateless("tools/call", ["name": "faults.hang"]).json() }
            }
            for try await answer in group { XCTAssertEqual(answer.at("result", "isError"), true) }
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
    }

    func testAHungCallDoesNotBlockOthers() async throws {
        let host = try TestHost { $0.server.callTimeoutMs = 2000 }
        async let slow = host.stateless("tools/call", ["name": "faults.hang"])
        let started = ContinuousClock.now
        let fast = try await host.stateless("tools/call", ["name": "echo.echo", "arguments": ["message": "quick"]]).json()
        XCTAssertEqual(fast.at("result", "content", 0, "text"), "quick")
        XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(1500))
        _ = await slow
    }

    /// A call made from a task that is already cancelled answers `.cancelled` at once (it used to
    /// wait forever for a plugin that never completes); a call cancelled while running is asked to
    /// stop and answers `.cancelled` too.
    func testCallsFromCancelledTasksAnswerCancelled() async throws {
        let host = try TestHost { $0.server.callTimeoutMs = 60_000 }
        let image = try XCTUnwrap(host.app.plugins.snapshot.images.first { $0.name == "faults" })
        let token = InstanceToken(pluginName: "faults", tenantID: "test", egressAllowList: nil, logger: Logger(label: "test"))
        let instance = try PluginInstance(image: image, configuration: .object([:]), token: token)
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let call = { @Sendable () async -> PluginCallOutcome in
            await instance.call(
                tool: "hang", arguments: Array("{}".utf8), context: Array("{}".utf8),
                deadline: .now() + .seconds(60), on: eventLoop)
        }

        let started = ContinuousClock.now
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await call()
        }
        guard case .cancelled = await early.value else { return XCTFail("expected .cancelled") }

        let running = Task { await call() }
        try await Task.sleep(for: .milliseconds(50))
        running.cancel()
        guard case .cancelled = await running.value else { return XCTFail("expected .cancelled") }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
    }
}
