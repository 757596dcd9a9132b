import AsyncHTTPClient
import Logging
@testable import MCPFronts
import MCPHostCore
import MCPJSON
import NIOCore
import NIOPosix
import XCTest

/// The same host over a real socket: the NIO front's framing, limits and streaming.
final class HTTPFrontTests: XCTestCase {
    private func withLiveHost(
        configure: (inout MCPConfigShim) -> Void = { _ in }, _ body: (String, HTTPClient) async throws -> Void
    ) async throws {
        var shim = MCPConfigShim()
        configure(&shim)
        let limit = shim.maxBodyBytes
        let host = try TestHost { $0.server.maxBodyBytes = limit }
        try await withFront(handler: host.app.router, maxBodyBytes: limit, body)
    }

    /// Serves `handler` on a loopback port through the NIO front, with a client for it.
    private func withFront(
        handler: HostRequestHandler, maxBodyBytes: Int, _ body: (String, HTTPClient) async throws -> Void
    ) async throws {
        let front = HTTPFront(
            settings: .init(host: "127.0.0.1", port: 0, maxBodyBytes: maxBodyBytes), handler: handler, group: TestHost.group,
            logger: Logger(label: "test"))
        let channel = try await front.bind()
        let port = try XCTUnwrap(channel.localAddress?.port)
        let client = HTTPClient(eventLoopGroup: TestHost.group)
        do {
            try await body("http://127.0.0.1:\(port)", client)
        } catch {
            try? await client.shutdown()
            try? await channel.close()
            throw error
        }
        try await client.shutdown()
        try await channel.close()
    }

    private func statelessRequest(_ url: String, body: String, name: String? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url + "/mcp")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json, text/event-stream")
        request.headers.add(name: "mcp-protocol-version", value: "2026-07-28")
        request.headers.add(name: "mcp-method", value: "tools/call")
        if let name { request.headers.add(name: "mcp-name", value: name) }
        request.body = .bytes(ByteBuffer(string: body))
        return request
    }

    static let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#

    func testJSONAndSSEOverTheSocketWithKeepAlive() async throws {
        try await withLiveHost { url, client in
            for round in 0..<3 {
                let response = try await client.execute(
                    statelessRequest(url, body: #"{"jsonrpc":"2.0","id":\#(round),"method":"tools/call","params":{"name":"echo.echo","arguments":{"message":"r\#(round)"},\#(Self.meta)}}"#, name: "echo.echo"),
                    timeout: .seconds(10))
                XCTAssertEqual(response.status, .ok)
                let body = try await response.body.collect(upTo: 1 << 20)
                let value = try JSONValue.parse(Array(buffer: body))
                XCTAssertEqual(value.at("result", "content", 0, "text"), .string("r\(round)"))
            }
            let progress = #"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo.count","arguments":{"to":3},"_meta":{"progressToken":1,"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#
            let streamed = try await client.execute(statelessRequest(url, body: progress, name: "echo.count"), timeout: .seconds(10))
            XCTAssertEqual(streamed.headers.first(name: "content-type"), "text/event-stream")
            let text = String(buffer: try await streamed.body.collect(upTo: 1 << 20))
            XCTAssertEqual(text.components(separatedBy: "notifications/progress").count - 1, 3)
            XCTAssertTrue(text.contains(#""counted":3"#))
        }
    }

    func testOversizeBodyIsRefusedWhileReceiving() async throws {
        try await withLiveHost(configure: { $0.maxBodyBytes = 2048 }) { url, client in
            let big = String(repeating: "x", count: 100_000)
            let response = try await client.execute(
                statelessRequest(url, body: #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo.echo","arguments":{"message":"\#(big)"},\#(Self.meta)}}"#, name: "echo.echo"),
                timeout: .seconds(10))
            XCTAssertEqual(response.status.code, 413)
            // The server keeps serving.
            var health = HTTPClientRequest(url: url + "/health")
            health.method = .GET
            let ok = try await client.execute(health, timeout: .seconds(5))
            XCTAssertEqual(ok.status, .ok)
        }
    }

    /// A response header carrying CR/LF or another control character, or with an invalid name, is
    /// never sent: the client gets a 500 and the connection stays usable.
    func testInvalidResponseHeadersAreNeverSent() async throws {
        struct Handler: HostRequestHandler {
            func handle(_ request: HostRequest) async -> HostResponse {
                var headers = HostHeaders()
                switch request.path {
                case "/value": headers.add("x-note", "a\r\nset-cookie: injected=1")
                case "/name": headers.add("x note", "fine")
                case "/control": headers.add("x-note", "bell \u{7}")
                default: headers.add("x-note", "fine\tobs-text \u{E9}")
                }
                return HostResponse(status: 200, headers: headers, body: .bytes(Array("ok".utf8)))
            }
        }
        try await withFront(handler: Handler(), maxBodyBytes: 1024) { url, client in
            for path in ["/value", "/name", "/control", "/ok"] {
                let response = try await client.execute(HTTPClientRequest(url: url + path), timeout: .seconds(5))
                let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
                if path == "/ok" {
                    XCTAssertEqual(response.status, .ok)
                    XCTAssertEqual(body, "ok")
                    XCTAssertEqual(response.headers.first(name: "x-note"), "fine\tobs-text \u{E9}")
                } else {
                    XCTAssertEqual(response.status, .internalServerError, path)
                    XCTAssertTrue(body.contains("invalid response header"), body)
                    XCTAssertNil(response.headers.first(name: "set-cookie"))
                    XCTAssertNil(response.headers.first(name: "x-note"))
                }
            }
        }
    }

    func testPathQuerySplitAndRequestIDs() {
        XCTAssertEqual(HTTPFrontHandler.split("/mcp").0, "/mcp")
        XCTAssertTrue(HTTPFrontHandler.split("/mcp").1 == nil)
        XCTAssertTrue(HTTPFrontHandler.split("/mcp?a=1&b=é?") == ("/mcp", "a=1&b=é?"))
        XCTAssertTrue(HTTPFrontHandler.split("/é/?") == ("/é/", ""))
        XCTAssertFalse(HTTPFrontHandler.isFramingHeader("content-type"))
        XCTAssertTrue(HTTPFrontHandler.isFramingHeader("Content-Length"))
        XCTAssertTrue(HTTPFrontHandler.isFramingHeader("transfer-Encoding"))

        let ids = (0..<40).map { _ in RequestID.next() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for pair in zip(ids, ids.dropFirst()) {
            let (a, b) = (pair.0.split(separator: "-"), pair.1.split(separator: "-"))
            XCTAssertEqual(a.count, 2)
            XCTAssertEqual(a[0], b[0])
            XCTAssertEqual(Int(b[1], radix: 36), Int(a[1], radix: 36)! + 1, "\(pair)")
        }
    }
}

struct MCPConfigShim {
    var maxBodyBytes = 4 * 1024 * 1024
}
