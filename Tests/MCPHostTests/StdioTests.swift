import Logging
import MCPHostCore
import MCPJSON
import MCPProtocol
import NIOConcurrencyHelpers
import XCTest

/// The stdio connection: lines in, lines out, both revisions.
final class StdioTests: XCTestCase {
    func testSessionAndStatelessMessagesOverOneConnection() async throws {
        let host = try TestHost()
        let output = NIOLockedValueBox<[JSONValue]>([])
        let tenant = try XCTUnwrap(host.app.tenants.server(for: "local"))
        let connection = StdioConnection(server: host.app.server, tenant: tenant, logger: Logger(label: "t")) { bytes in
            if let value = try? JSONValue.parse(bytes) { output.withLockedValue { $0.append(value) } }
        }
        func send(_ line: String) async { await connection.receive(line: Array(line.utf8)) }

        await send("{broken")
        await send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)  // before initialize
        await send(#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        await send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        await send(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo.count","arguments":{"to":2},"_meta":{"progressToken":"s"}}}"#)
        await connection.drain()
        await send(#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"cecho.echo","arguments":{"message":"c"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#)
        await send(#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"faults.hang"}}"#)
        try await Task.sleep(for: .milliseconds(50))
        await send(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}"#)
        await connection.drain()

        let messages = output.withLockedValue { $0 }
        XCTAssertEqual(messages.first?.at("error", "code"), -32700)
        XCTAssertEqual(messages.first { $0["id"] == 1 }?.at("error", "code"), -32600)
        XCTAssertEqual(messages.first { $0["id"] == 2 }?.at("result", "protocolVersion"), "2025-06-18")
        let progress = messages.filter { $0["method"] == "notifications/progress" }.compactMap { $0.at("params", "progress")?.doubleValue }
        XCTAssertEqual(progress, [1, 2])
        XCTAssertEqual(messages.first { $0["id"] == 3 }?.at("result", "structuredContent", "counted"), 2)
        XCTAssertEqual(messages.first { $0["id"] == 4 }?.at("result", "content", 0, "text"), "c")
        XCTAssertNil(messages.first { $0["id"] == 5 }, "a cancelled request must not be answered")
    }
}
