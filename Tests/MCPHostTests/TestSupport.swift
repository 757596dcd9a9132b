import Foundation
import Logging
import MCPConfig
import MCPHostApp
import MCPHostCore
import MCPJSON
import NIOCore
import NIOPosix
import XCTest

/// Where `swift build` put the plugin libraries (the test bundle sits in the same directory).
enum BuildProducts {
    static let directory: String = {
        if let explicit = ProcessInfo.processInfo.environment["MCPHOST_BUILD_DIR"] { return explicit }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var url = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // .../debug/MCPHostPackageTests.xctest is the executable itself on Linux.
        if url.lastPathComponent.hasSuffix(".xctest") { url = url.deletingLastPathComponent() }
        return url.path
    }()

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func library(_ name: String) throws -> String {
        let path = "\(directory)/lib\(name).so"
        guard FileManager.default.fileExists(atPath: path) else {
            throw MissingBuildProduct(path: path)
        }
        return path
    }
}

/// A missing plugin build is a setup error, reported as a failure (never skipped).
struct MissingBuildProduct: Error, CustomStringConvertible {
    var path: String
    var description: String { "\(path) does not exist: run `swift build` before `swift test` (scripts/test does)" }
}

/// Temporary directories removed at the end of the test.
final class TemporaryDirectory {
    let path: String

    init(mode: Int = 0o755) throws {
        path = NSTemporaryDirectory() + "mcphost-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, mode_t(mode))
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Copies a file in (mode 0755); returns the new path.
    @discardableResult
    func copy(_ source: String, as name: String? = nil) throws -> String {
        let target = path + "/" + (name ?? URL(fileURLWithPath: source).lastPathComponent)
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        // Replace in place (same inode) when it exists: what `cp` over a deployed plugin does.
        if FileManager.default.fileExists(atPath: target) {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: target))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: data)
            try handle.close()
        } else {
            _ = FileManager.default.createFile(atPath: target, contents: data)
        }
        chmod(target, 0o755)
        return target
    }

    func write(_ name: String, _ text: String) -> String {
        let target = path + "/" + name
        _ = FileManager.default.createFile(atPath: target, contents: Data(text.utf8))
        chmod(target, 0o644)
        return target
    }
}

/// Compiles a C fixture plugin from Tests/Fixtures/plugins with the system C compiler.
@discardableResult
func compileFixture(_ name: String, defines: [String] = [], into directory: TemporaryDirectory, as output: String? = nil)
    throws -> String
{
    let source = "\(BuildProducts.repositoryRoot)/Tests/Fixtures/plugins/\(name).c"
    let target = "\(directory.path)/\(output ?? name + ".so")"
    let scratch = NSTemporaryDirectory() + UUID().uuidString + ".so"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
        ["cc", "-shared", "-fPIC", "-O1", "-I", "\(BuildProducts.repositoryRoot)/SDK/Sources/CMCPPlugin/include"]
        + defines.map { "-D" + $0 } + ["-o", scratch, source]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw MissingBuildProduct(path: "cc failed for \(source)") }
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    try directory.copy(scratch, as: URL(fileURLWithPath: target).lastPathComponent)
    return target
}

/// Captures log lines in memory so tests can assert on them.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var sink: LogSink {
        LogSink { line in
            self.lock.lock()
            self.lines.append(String(decoding: line, as: UTF8.self))
            self.lock.unlock()
        }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return lines.joined()
    }
}

/// A host built in-process around a plugin directory. `send` goes through the same router the
/// HTTP front uses, without a socket.
final class TestHost: @unchecked Sendable {  // immutable after init
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    let plugins: TemporaryDirectory
    let cache: TemporaryDirectory
    let app: HostApplication
    let logs = LogCapture()

    init(
        libraries: [String] = ["MCPPluginEcho", "MCPPluginCEcho", "MCPTestPluginFaults"],
        configure: (inout HostConfig) -> Void = { _ in }
    ) throws {
        plugins = try TemporaryDirectory()
        cache = try TemporaryDirectory(mode: 0o700)
        for library in libraries { try plugins.copy(try BuildProducts.library(library)) }
        var config = HostConfig()
        config.plugins.directory = plugins.path
        config.plugins.cacheDirectory = cache.path
        config.plugins.reloadIntervalMs = 0
        configure(&config)
        let capture = logs
        let logger = Logger(label: "test") { JSONLogHandler(label: $0, level: .debug, sink: capture.sink) }
        app = try HostApplication(config: config, executableDirectory: plugins.path, group: Self.group, logger: logger)
    }

    func send(_ request: HostRequest) async -> HostResponse {
        await app.router.handle(request)
    }

    // MARK: request builders

    static let meta: JSONValue = [
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": [:],
        "io.modelcontextprotocol/clientInfo": ["name": "tests", "version": "1"],
    ]

    /// A 2026-07-28 request with matching routing headers.
    func stateless(
        _ method: String, _ params: JSONObject = [:], id: JSONValue = 1, headers extra: [(String, String)] = [],
        accept: String = "application/json, text/event-stream"
    ) async -> HostResponse {
        var params = params
        if params["_meta"] == nil { params["_meta"] = Self.meta }
        var headers: HostHeaders = [
            "content-type": "application/json", "accept": accept, "mcp-protocol-version": "2026-07-28",
            "mcp-method": method,
        ]
        if let name = params["name"]?.stringValue { headers.add("mcp-name", name) }
        for (name, value) in extra { headers.set(name, value) }
        let body: JSONValue = ["jsonrpc": "2.0", "id": id, "method": .string(method), "params": .object(params)]
        return await send(HostRequest(method: "POST", path: "/mcp", headers: headers, body: body.serialized()))
    }

    func post(_ body: String, headers: [(String, String)] = []) async -> HostResponse {
        var all: HostHeaders = ["content-type": "application/json", "accept": "application/json, text/event-stream"]
        for (name, value) in headers { all.set(name, value) }
        return await send(HostRequest(method: "POST", path: "/mcp", headers: all, body: Array(body.utf8)))
    }

    /// initialize + notifications/initialized; returns the session id.
    func startSession(version: String = "2025-11-25") async throws -> String {
        let response = await post(
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"\#(version)","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        XCTAssertEqual(response.status, 200)
        let id = try XCTUnwrap(response.headers["mcp-session-id"])
        let initialized = await post(
            #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            headers: [("mcp-session-id", id), ("mcp-protocol-version", version)])
        XCTAssertEqual(initialized.status, 202)
        return id
    }

    func sessionCall(_ session: String, version: String = "2025-11-25", _ body: String, accept: String = "application/json, text/event-stream")
        async -> HostResponse
    {
        await post(body, headers: [("mcp-session-id", session), ("mcp-protocol-version", version), ("accept", accept)])
    }
}

extension HostResponse {
    /// The buffered body as JSON (fails the test otherwise).
    func json(file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        guard case .bytes(let bytes) = body else {
            XCTFail("expected a buffered body, got \(body)", file: file, line: line)
            return .null
        }
        return try JSONValue.parse(bytes)
    }

    /// Reads a streamed (SSE) body to its end and returns the JSON of each `data:` line.
    func events(file: StaticString = #filePath, line: UInt = #line) async throws -> [JSONValue] {
        guard case .stream(let stream) = body else {
            XCTFail("expected a stream, got \(body)", file: file, line: line)
            return []
        }
        var text = ""
        for await chunk in stream.chunks { text += String(decoding: chunk, as: UTF8.self) }
        return try text.split(separator: "\n").compactMap { line -> JSONValue? in
            guard line.hasPrefix("data: ") else { return nil }
            let payload = line.dropFirst(6)
            return payload.isEmpty ? nil : try JSONValue.parse(String(payload))
        }
    }
}

extension JSONValue {
    /// `value["a"]?["b"]` shortcut for paths in tests: `value.at("result", "content", 0, "text")`.
    func at(_ path: Any...) -> JSONValue? {
        var current: JSONValue? = self
        for step in path {
            if let key = step as? String { current = current?[key] } else if let index = step as? Int {
                guard let array = current?.arrayValue, index < array.count else { return nil }
                current = array[index]
            }
        }
        return current
    }
}
