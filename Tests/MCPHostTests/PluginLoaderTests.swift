import Foundation
import MCPHostCore
import MCPJSON
import MCPPlugins
import XCTest

@testable import MCPHostApp

/// The loading rules of DESIGN.md, each against a real .so.
final class PluginLoaderTests: XCTestCase {
    private func statuses(_ host: TestHost) throws -> [JSONValue] {
        let health = try host.app.router.handleSync(path: "/health")
        return try XCTUnwrap(health["plugins"]?.arrayValue)
    }

    func testBundledSwiftAndCPluginsLoadAndTheExecutableLinksNone() async throws {
        let host = try TestHost(libraries: ["MCPPluginEcho", "MCPPluginCEcho"])
        let names = host.app.plugins.snapshot.images.map(\.name).sorted()
        XCTAssertEqual(names, ["cecho", "echo"])
        let call = try await host.stateless("tools/call", ["name": "cecho.echo", "arguments": ["message": "from C"]]).json()
        XCTAssertEqual(call.at("result", "content", 0, "text"), "from C")
        // Each plugin is its own library; the host binary names none of them.
        let readelf = Process()
        readelf.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        readelf.arguments = ["readelf", "-d", "\(BuildProducts.directory)/mcp-host"]
        let pipe = Pipe()
        readelf.standardOutput = pipe
        try readelf.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        readelf.waitUntilExit()
        XCTAssertTrue(output.contains("NEEDED"), "readelf printed: \(output.prefix(200))")
        XCTAssertFalse(output.contains("MCPPlugin"), "mcp-host must not link a plugin:\n\(output)")
    }

    func testABIMismatchIsRefusedNamingBothVersionsAndTheRestKeepsServing() async throws {
        let host = try TestHost(libraries: ["MCPPluginEcho"])
        _ = try compileFixture("abi_mismatch", into: host.plugins)
        host.app.plugins.rescan()
        let failed = try statuses(host).first { $0["status"] == "failed" }
        let error = try XCTUnwrap(failed?["error"]?.stringValue)
        XCTAssertTrue(error.contains("v999") && error.contains("v1"), error)
        XCTAssertTrue(failed?["file"]?.stringValue?.hasSuffix("abi_mismatch.so") ?? false)
        let call = try await host.stateless("tools/call", ["name": "echo.echo", "arguments": ["message": "still here"]]).json()
        XCTAssertEqual(call.at("result", "content", 0, "text"), "still here")
    }

    func testMissingEntrySymbolNonELFShortDescriptorAndFailingInitAreRefused() throws {
        let host = try TestHost(libraries: ["MCPPluginEcho"])
        _ = try compileFixture("no_entry", into: host.plugins)
        _ = try compileFixture("short_struct", into: host.plugins)
        _ = try compileFixture("init_fails", into: host.plugins)
        _ = host.plugins.write("notes.so", "this is not a shared object\n")
        host.app.plugins.rescan()
        let errors = try statuses(host).reduce(into: [String: String]()) { result, status in
            guard let file = status["file"]?.stringValue, let error = status["error"]?.stringValue else { return }
            result[URL(fileURLWithPath: file).lastPathComponent] = error
        }
        XCTAssertTrue(errors["no_entry.so"]?.contains("missing entry symbol mcp_plugin_entry") ?? false, "\(errors)")
        XCTAssertTrue(errors["notes.so"]?.contains("not an ELF shared object") ?? false, "\(errors)")
        XCTAssertTrue(errors["short_struct.so"]?.contains("descriptor is") ?? false, "\(errors)")
        XCTAssertTrue(errors["init_fails.so"]?.contains("init failed on purpose") ?? false, "\(errors)")
        XCTAssertEqual(host.app.plugins.snapshot.images.map(\.name), ["echo"])
        XCTAssertTrue(host.logs.text.contains("plugin refused"))
    }

    func testReplaceInPlaceLoadsNewVersionForNewSessionsWhileOldSessionKeepsTheOld() async throws {
        let host = try TestHost(libraries: [])
        let build = try TemporaryDirectory()
        let v1 = try compileFixture("versioned", defines: [#"PLUGIN_VERSION="1.0.0""#], into: build, as: "v1.so")
        let v2 = try compileFixture("versioned", defines: [#"PLUGIN_VERSION="2.0.0""#], into: build, as: "v2.so")
        try host.plugins.copy(v1, as: "versioned.so")
        host.app.plugins.rescan()
        let old = try await host.startSession()

        // Overwrite the deployed file in place, as `cp` does; the loaded image is a separate copy.
        try host.plugins.copy(v2, as: "versioned.so")
        XCTAssertTrue(host.app.plugins.rescan())

        let fresh = try await host.stateless("tools/call", ["name": "versioned.version"]).json()
        XCTAssertEqual(fresh.at("result", "content", 0, "text"), "versioned 2.0.0")
        let newSession = try await host.startSession()
        let viaNew = try await host.sessionCall(newSession, #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"versioned.version"}}"#).json()
        XCTAssertEqual(viaNew.at("result", "content", 0, "text"), "versioned 2.0.0")
        let viaOld = try await host.sessionCall(old, #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"versioned.version"}}"#).json()
        XCTAssertEqual(viaOld.at("result", "content", 0, "text"), "versioned 1.0.0")
        let health = try host.app.router.handleSync(path: "/health")
        XCTAssertEqual(health.at("plugins", 0, "version"), "2.0.0")
    }

    func testGroupWritableDirectoryIsRefused() throws {
        let host = try TestHost(libraries: ["MCPPluginEcho"])
        chmod(host.plugins.path, 0o775)
        host.app.plugins.rescan()
        XCTAssertTrue(host.app.plugins.snapshot.images.isEmpty)
        let error = try statuses(host).first?["error"]?.stringValue ?? ""
        XCTAssertTrue(error.contains("writable by group or others"), error)
        chmod(host.plugins.path, 0o755)
        host.app.plugins.rescan()
        XCTAssertEqual(host.app.plugins.snapshot.images.map(\.name), ["echo"])
    }

    func testSHA256AllowListPinsBuilds() throws {
        let echo = try BuildProducts.library("MCPPluginEcho")
        let digest = sha256Hex(of: echo)
        let pinned = try TestHost(libraries: ["MCPPluginEcho", "MCPPluginCEcho"]) { $0.plugins.allowSHA256 = [digest] }
        XCTAssertEqual(pinned.app.plugins.snapshot.images.map(\.name), ["echo"])
        let refused = try statuses(pinned).first { $0["status"] == "failed" }?["error"]?.stringValue ?? ""
        XCTAssertTrue(refused.contains("is not in plugins.allow_sha256"), refused)
    }

    func testInspectDescribesAPlugin() async throws {
        let description = try await HostApplication.inspectPlugin(path: try BuildProducts.library("MCPPluginEcho"))
        XCTAssertEqual(description["name"], "echo")
        XCTAssertTrue(description["sdk_id"]?.stringValue?.hasPrefix(Toolchain.swiftVersion) ?? false)
        let tools = description["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        XCTAssertTrue(tools.contains("echo.echo"), "\(tools)")
    }

    private func sha256Hex(of path: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(output.prefix(64))
    }
}

extension HostRouter {
    /// GET `path` through the router and parse the JSON body.
    func handleSync(path: String) throws -> JSONValue {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: HostResponse?
        Task {
            result = await self.handle(HostRequest(method: "GET", path: path))
            semaphore.signal()
        }
        semaphore.wait()
        return try result!.json()
    }
}
