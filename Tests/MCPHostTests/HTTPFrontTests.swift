import AsyncHTTPClient
import Logging
@testable import MCPFronts
import MCPHostCore
import MCPJSON
import NIOCore
import NIOPosix
import XCTest
#if canImport(Glibc)
import Glibc
#endif
import Foundation

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
        handler: HostRequestHandler, maxBodyBytes: Int, idleTimeout: TimeAmount = .seconds(60),
        _ body: (String, HTTPClient) async throws -> Void
    ) async throws {
        let front = HTTPFront(
            settings: .init(host: "127.0.0.1", port: 0, maxBodyBytes: maxBodyBytes, idleTimeout: idleTimeout), handler: handler,
            group: TestHost.group, logger: Logger(label: "test"))
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

    /// Header names match ignoring ASCII case only: `[`/`{` and `@`/`` ` `` differ by the case bit
    /// but are not letters, and non-ASCII letters are never folded.
    func testHeaderLookupFoldsASCIILettersOnly() {
        let headers: HostHeaders = [
            "Content-Type": "a", "MCP-Protocol-Version": "b", "x[": "c", "X-Dup": "1", "x-dup": "2",
            "x-a-header-name-well-over-fifteen-bytes": "d", "\u{C9}t\u{E9}": "e",
        ]
        XCTAssertEqual(headers["content-type"], "a")
        XCTAssertEqual(headers["mcp-protocol-version"], "b")
        XCTAssertEqual(headers["X-A-HEADER-NAME-WELL-OVER-FIFTEEN-BYTES"], "d")
        XCTAssertNil(headers["x{"])
        XCTAssertNil(headers["content-typ"])
        XCTAssertNil(headers["\u{E9}t\u{E9}"])
        XCTAssertEqual(headers["\u{C9}t\u{E9}"], "e")
        XCTAssertTrue(headers.firstValueAndCount(of: "x-dup") == ("1", 2))
        XCTAssertEqual(headers.values("X-DUP"), ["1", "2"])
        XCTAssertEqual(headers.count(of: "x-dup"), 2)
        XCTAssertFalse(HostHeaders.equalsIgnoringASCIICase("@", "`"))
        XCTAssertTrue(HostHeaders.equalsIgnoringASCIICase("", ""))
    }

    func testPathQuerySplitAndRequestIDs() {
        XCTAssertEqual(HTTPFrontHandler.split("/mcp").0, "/mcp")
        XCTAssertTrue(HTTPFrontHandler.split("/mcp").1 == nil)
        XCTAssertTrue(HTTPFrontHandler.split("/mcp?a=1&b=é?") == ("/mcp", "a=1&b=é?"))
        XCTAssertTrue(HTTPFrontHandler.split("/é/?") == ("/é/", ""))
        XCTAssertFalse(HTTPWire.isFramingHeader("content-type"))
        XCTAssertTrue(HTTPWire.isFramingHeader("Content-Length"))
        XCTAssertTrue(HTTPWire.isFramingHeader("transfer-Encoding"))

        let ids = (0..<40).map { _ in RequestID.next() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for pair in zip(ids, ids.dropFirst()) {
            let (a, b) = (pair.0.split(separator: "-"), pair.1.split(separator: "-"))
            XCTAssertEqual(a.count, 2)
            XCTAssertEqual(a[0], b[0])
            XCTAssertEqual(Int(b[1], radix: 36), Int(a[1], radix: 36)! + 1, "\(pair)")
        }
    }

    // MARK: wire behaviour, seen from a raw socket

    /// Answers by path: `/slow` after a pause (its task suspends), `/stream` as a streamed body,
    /// `/empty` with 204, anything else at once with the path as the body.
    private struct WireHandler: HostRequestHandler {
        func handle(_ request: HostRequest) async -> HostResponse {
            switch request.path {
            case "/slow":
                try? await Task.sleep(for: .milliseconds(50))
                return HostResponse(status: 200, body: .bytes(Array("slow".utf8)))
            case "/stream":
                let (chunks, continuation) = AsyncStream<[UInt8]>.makeStream()
                continuation.yield(Array("data: one\n\n".utf8))
                continuation.yield([])
                continuation.yield(Array("data: two\n\n".utf8))
                continuation.finish()
                return HostResponse(
                    status: 200, headers: ["content-type": "text/event-stream"],
                    body: .stream(HostResponseStream(chunks: chunks, onClientGone: {})))
            case "/empty":
                return HostResponse(status: 204, headers: ["x-note": "none"])
            case "/slowstream":
                let (chunks, continuation) = AsyncStream<[UInt8]>.makeStream()
                Task {
                    for index in 0..<5 {
                        try? await Task.sleep(for: .milliseconds(150))
                        continuation.yield(Array("data: \(index)\n\n".utf8))
                    }
                    continuation.finish()
                }
                return HostResponse(
                    status: 200, headers: ["content-type": "text/event-stream"],
                    body: .stream(HostResponseStream(chunks: chunks, onClientGone: {})))
            default:
                var headers = HostHeaders()
                headers.add("content-type", "text/plain")
                headers.add("content-length", "999")  // the front's framing wins
                return HostResponse(status: 200, headers: headers, body: .bytes(Array("\(request.method) \(request.path) \(request.body.count)".utf8)))
            }
        }
    }

    private func withRawFront(
        maxBodyBytes: Int = 1024, idleTimeout: TimeAmount = .seconds(60), _ body: (Int) async throws -> Void
    ) async throws {
        try await withFront(handler: WireHandler(), maxBodyBytes: maxBodyBytes, idleTimeout: idleTimeout) { url, _ in
            try await body(try XCTUnwrap(Int(url.split(separator: ":").last!)))
        }
    }

    /// Requests sent back to back before any answer are answered in order, each once, including
    /// behind one whose handler suspends.
    func testPipelinedRequestsAreAnsweredInOrder() async throws {
        try await withRawFront { port in
            let connection = try RawConnection(port: port)
            connection.send(
                "GET /slow HTTP/1.1\r\nhost: x\r\n\r\n" + "POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc"
                    + "GET /stream HTTP/1.1\r\nhost: x\r\n\r\n" + "GET /b HTTP/1.1\r\nhost: x\r\n\r\n")
            let bodies = try (0..<4).map { _ in try XCTUnwrap(connection.nextResponse()).body }
            XCTAssertEqual(bodies, ["slow", "POST /a 3", "data: one\n\ndata: two\n\n", "GET /b 0"])
            connection.send("GET /c HTTP/1.1\r\nhost: x\r\n\r\n")
            XCTAssertEqual(connection.nextResponse()?.body, "GET /c 0")
        }
    }

    func testUnparsableRequestGets400AndTheConnectionCloses() async throws {
        try await withRawFront { port in
            let connection = try RawConnection(port: port)
            connection.send("GET /a HTTP/1.1\r\nhost: x\r\n\r\n" + "NOT HTTP AT ALL\r\n\r\n")
            XCTAssertEqual(connection.nextResponse()?.body, "GET /a 0")
            let refused = try XCTUnwrap(connection.nextResponse())
            XCTAssertEqual(refused.status, 400)
            XCTAssertEqual(refused.headers["connection"], "close")
            XCTAssertTrue(connection.isClosedByPeer())
        }
    }

    /// HEAD gets the GET headers and no body; 204 gets neither a body nor a content-length; a
    /// handler's own content-length never reaches the wire. The connection stays usable after each.
    func testHeadAndNoContentResponsesCarryNoBody() async throws {
        try await withRawFront { port in
            let connection = try RawConnection(port: port)
            connection.send("HEAD /h HTTP/1.1\r\nhost: x\r\n\r\n")
            let head = try XCTUnwrap(connection.nextResponse(bodyless: true))
            XCTAssertEqual(head.status, 200)
            XCTAssertEqual(head.headers["content-length"], "9")  // the size of "HEAD /h 0", which is not sent
            connection.send("GET /empty HTTP/1.1\r\nhost: x\r\n\r\n")
            let empty = try XCTUnwrap(connection.nextResponse(bodyless: true))
            XCTAssertEqual(empty.status, 204)
            XCTAssertNil(empty.headers["content-length"])
            XCTAssertEqual(empty.headers["x-note"], "none")
            connection.send("GET /after HTTP/1.1\r\nhost: x\r\n\r\n")
            let after = try XCTUnwrap(connection.nextResponse())
            XCTAssertEqual(after.body, "GET /after 0")
            XCTAssertEqual(after.headers["content-length"], "12")
        }
    }

    /// `expect: 100-continue`: a body within the limit is asked for; one over it is refused before
    /// the client sends it.
    func testExpectContinue() async throws {
        try await withRawFront(maxBodyBytes: 16) { port in
            let connection = try RawConnection(port: port)
            connection.send("POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
            XCTAssertEqual(connection.nextResponse(bodyless: true)?.status, 100)
            connection.send("hello")
            XCTAssertEqual(connection.nextResponse()?.body, "POST /up 5")

            try RawConnection(port: port).expectLastAnswer(
                to: "POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: 17\r\nexpect: 100-continue\r\n\r\n",
                status: 413, saying: "larger than 16 bytes")
        }
    }

    /// A connection that makes no progress for the idle timeout is closed: quietly when idle, with
    /// 408 when a request stalled half-sent. Requests keep it open, and so does a streamed answer
    /// that takes longer than the timeout.
    func testConnectionsWithoutProgressAreClosed() async throws {
        try await withRawFront(idleTimeout: .milliseconds(300)) { port in
            let idle = try RawConnection(port: port)
            let started = ContinuousClock.now
            XCTAssertTrue(idle.isClosedByPeer())
            let waited = ContinuousClock.now - started
            XCTAssertGreaterThanOrEqual(waited, .milliseconds(300))
            XCTAssertLessThan(waited, .seconds(3))

            try RawConnection(port: port).expectLastAnswer(
                to: "POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nabc", status: 408, saying: "not received within")

            let busy = try RawConnection(port: port)
            for round in 0..<8 {
                busy.send("GET /r\(round) HTTP/1.1\r\nhost: x\r\n\r\n")
                XCTAssertEqual(busy.nextResponse()?.body, "GET /r\(round) 0")
                try await Task.sleep(for: .milliseconds(100))
            }
            busy.send("GET /slowstream HTTP/1.1\r\nhost: x\r\n\r\n")
            XCTAssertEqual(busy.nextResponse()?.body, (0..<5).map { "data: \($0)\n\n" }.joined())
            busy.send("GET /last HTTP/1.1\r\nhost: x\r\n\r\n")
            XCTAssertEqual(busy.nextResponse()?.body, "GET /last 0")
        }
    }

    /// HTTP/1.0: keep-alive only when asked for (and then said so); a streamed body runs until the
    /// server closes, since 1.0 has no chunked encoding.
    func testHTTP10KeepAliveAndStreaming() async throws {
        try await withRawFront { port in
            let connection = try RawConnection(port: port)
            connection.send("GET /k HTTP/1.0\r\nconnection: keep-alive\r\n\r\n")
            let kept = try XCTUnwrap(connection.nextResponse())
            XCTAssertEqual(kept.statusLine, "HTTP/1.0 200 OK")
            XCTAssertEqual(kept.headers["connection"], "keep-alive")
            connection.send("GET /stream HTTP/1.0\r\nconnection: keep-alive\r\n\r\n")
            let streamed = try XCTUnwrap(connection.nextResponse())
            XCTAssertNil(streamed.headers["transfer-encoding"])
            XCTAssertEqual(streamed.headers["connection"], "close")
            XCTAssertEqual(streamed.body, "data: one\n\ndata: two\n\n")

            let plain = try RawConnection(port: port)
            plain.send("GET /p HTTP/1.0\r\n\r\n")
            let closed = try XCTUnwrap(plain.nextResponse())
            XCTAssertEqual(closed.headers["connection"], "close")
            XCTAssertEqual(closed.body, "GET /p 0")
            XCTAssertTrue(plain.isClosedByPeer())
        }
    }
}

/// A blocking TCP client that sends exactly the bytes a test writes and parses what comes back,
/// so framing can be checked byte for byte (an HTTP client library would hide it).
final class RawConnection {
    struct Response {
        var statusLine: String
        var status: Int
        var headers: HostHeaders
        var body: String
    }

    private let fd: Int32
    private var received: [UInt8] = []
    private var peerClosed = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            sent += n
        }
    }

    /// Reads more; false at end of stream (then `peerClosed`), on error or after 5 s without data.
    private func fill() -> Bool {
        guard !peerClosed else { return false }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else {
            if n == 0 || errno == ECONNRESET { peerClosed = true }
            return false
        }
        received += chunk[..<n]
        return true
    }

    /// Sends `request` and checks the answer is `status` with `text` in its body, after which the
    /// server closes the connection.
    func expectLastAnswer(
        to request: String, status: Int, saying text: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        send(request)
        let answer = try XCTUnwrap(nextResponse(), file: file, line: line)
        XCTAssertEqual(answer.status, status, file: file, line: line)
        XCTAssertTrue(answer.body.contains(text), answer.body, file: file, line: line)
        XCTAssertTrue(isClosedByPeer(), "still open after \(status)", file: file, line: line)
    }

    /// True once the server has closed its side (reads return end of stream); false when 5 s pass
    /// without that.
    func isClosedByPeer() -> Bool {
        while fill() {}
        return peerClosed
    }

    /// The next response: framed by content-length, chunked encoding, or the end of the stream.
    /// `bodyless` for answers to HEAD and for 1xx/204/304, which have no body whatever they say.
    func nextResponse(bodyless: Bool = false) -> Response? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var end: Int?
        while true {
            if received.count >= 4, let at = (0...(received.count - 4)).first(where: { Array(received[$0..<$0 + 4]) == separator }) {
                end = at
                break
            }
            guard fill() else { return nil }
        }
        let headText = String(decoding: received[..<end!], as: UTF8.self)
        received.removeFirst(end! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        var headers = HostHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        let status = Int(statusLine.split(separator: " ")[1]) ?? 0
        var body: [UInt8] = []
        if bodyless {
        } else if let length = headers["content-length"].flatMap(Int.init) {
            while received.count < length { guard fill() else { return nil } }
            body = Array(received[..<length])
            received.removeFirst(length)
        } else if headers["transfer-encoding"] == "chunked" {
            while true {
                var lineEnd: Int?
                while lineEnd == nil {
                    lineEnd = received.indices.dropLast().first { received[$0] == 13 && received[$0 + 1] == 10 }
                    if lineEnd == nil { guard fill() else { return nil } }
                }
                let size = Int(String(decoding: received[..<lineEnd!], as: UTF8.self), radix: 16) ?? 0
                received.removeFirst(lineEnd! + 2)
                while received.count < size + 2 { guard fill() else { return nil } }
                body += received[..<size]
                received.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else {
            while fill() {}
            body = received
            received = []
        }
        return Response(statusLine: statusLine, status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }
}

struct MCPConfigShim {
    var maxBodyBytes = 4 * 1024 * 1024
}
