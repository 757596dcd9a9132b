import Foundation
import Logging
import MCPConfig
import MCPGate
import MCPHostApp
import MCPHostCore
import MCPJSON
import MCPPlugins
import MCPTenancy
import XCTest

/// Registered API keys, per-tenant servers (LRU, idle expiry, build once), isolation between
/// tenants and the per-tenant rate limit.
final class TenancyTests: XCTestCase {
    static let keyA = "key-alpha-7f3c9b1e2d"
    static let keyB = "key-beta-0a9e8d7c6b"

    /// Tenant alpha: echo (greeting "hola alpha") and cecho. Tenant beta: echo only ("hi beta").
    func makeHost(configure: (inout HostConfig) -> Void = { _ in }) throws -> TestHost {
        try TestHost { config in
            config.auth.mode = "api_key"
            config.tenants = [
                HostConfig.Tenant(
                    id: "alpha", plugins: ["echo": ["greeting": "hola alpha"], "cecho": [:]],
                    apiKeySHA256: [APIKeyDigest.hex(Self.keyA)]),
                HostConfig.Tenant(
                    id: "beta", plugins: ["echo": ["greeting": "hi beta"]], apiKeySHA256: [APIKeyDigest.hex(Self.keyB)]),
            ]
            configure(&config)
        }
    }

    func assertNoKeyInLogs(_ host: TestHost, file: StaticString = #filePath, line: UInt = #line) {
        let logs = host.logs.text
        XCTAssertFalse(logs.isEmpty, file: file, line: line)
        for key in [Self.keyA, Self.keyB, "not-a-registered-key"] {
            XCTAssertFalse(logs.contains(key), "a key appears in the logs:\n\(logs)", file: file, line: line)
        }
    }

    // MARK: digests and configuration

    func testKeyDigestIsHexSHA256() {
        XCTAssertEqual(APIKeyDigest.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testConfigReadsAPIKeyModeTenancyAndKeyHashes() throws {
        let directory = try TemporaryDirectory()
        let hash = APIKeyDigest.hex(Self.keyA)
        let path = directory.write(
            "mcp-host.yaml",
            """
            server: {host: 0.0.0.0}
            auth: {mode: api_key, header: X-Customer-Key}
            tenancy: {max_tenants: 5, idle_timeout_s: 60, rate_limit_per_s: 2.5, rate_limit_burst: 4}
            tenants:
              - id: alpha
                api_key_sha256: ["\(hash.uppercased())"]
                plugins: {echo: {greeting: hola}}
            """)
        let config = try ConfigLoader.load(path: path, environment: ["MCPHOST_TENANCY_MAX_TENANTS": "7"])
        XCTAssertEqual(config.auth.mode, "api_key")
        XCTAssertEqual(config.auth.header, "X-Customer-Key")
        XCTAssertEqual(config.tenancy.maxTenants, 7)
        XCTAssertEqual(config.tenancy.idleTimeoutS, 60)
        XCTAssertEqual(config.tenancy.rateLimitPerS, 2.5)
        XCTAssertEqual(config.tenancy.rateLimitBurst, 4)
        XCTAssertEqual(config.tenants[0].apiKeySHA256, [hash.uppercased()])

        let fromEnvironment = try ConfigLoader.load(
            path: path, environment: ["MCPHOST_TENANCY_RATE_LIMIT_PER_S": "0.5", "MCPHOST_AUTH_HEADER": "x-other"])
        XCTAssertEqual(fromEnvironment.tenancy.rateLimitPerS, 0.5)
        XCTAssertEqual(fromEnvironment.auth.header, "x-other")
    }

    func testConfigErrorsNameTheKey() throws {
        let directory = try TemporaryDirectory()
        let hash = APIKeyDigest.hex(Self.keyA)
        func error(_ yaml: String) -> String {
            let path = directory.write("bad.yaml", yaml)
            do {
                _ = try ConfigLoader.load(path: path, environment: [:])
                return "no error"
            } catch { return error.description }
        }
        let badHash = error("auth: {mode: api_key}\ntenants:\n  - id: a\n    api_key_sha256: [abc]\n")
        XCTAssertTrue(badHash.contains("tenants[0].api_key_sha256[0]") && badHash.contains("64 hex"), badHash)
        let noKeys = error("auth: {mode: api_key}\ntenants:\n  - id: a\n")
        XCTAssertTrue(noKeys.contains("tenants[0].api_key_sha256") && noKeys.contains("at least one"), noKeys)
        let shared = error(
            "auth: {mode: api_key}\ntenants:\n  - id: a\n    api_key_sha256: [\"\(hash)\"]\n  - id: b\n    api_key_sha256: [\"\(hash)\"]\n")
        XCTAssertTrue(shared.contains("tenants[1].api_key_sha256[0]") && shared.contains("tenant a"), shared)
        let mode = error("auth: {mode: jwt-ish}\n")
        XCTAssertTrue(mode.contains("auth.mode") && mode.contains("api_key"), mode)
        let header = error("auth: {header: \"x api key\"}\n")
        XCTAssertTrue(header.contains("auth.header"), header)
        let tenancy = error("tenancy: {max_tenant: 3}\n")
        XCTAssertTrue(tenancy.contains("tenancy.max_tenant") && tenancy.contains("max_tenants"), tenancy)
        let rate = error("tenancy: {rate_limit_per_s: -1}\n")
        XCTAssertTrue(rate.contains("tenancy.rate_limit_per_s"), rate)
        // auth: none stays loopback-only.
        let open = error("server: {host: 0.0.0.0}\nauth: {mode: none}\n")
        XCTAssertTrue(open.contains("auth.mode") && open.contains("loopback"), open)
    }

    // MARK: the gate

    func testMissingWrongAndQueryStringKeysAre401() async throws {
        let host = try makeHost()
        let missing = await host.stateless("tools/list")
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.headers["content-type"], "application/json")
        XCTAssertTrue(missing.headers["www-authenticate"]?.contains("x-api-key") ?? false)
        XCTAssertTrue(try missing.json()["error"]?.stringValue?.contains("x-api-key") ?? false)

        let wrong = await host.stateless("tools/list", headers: [("x-api-key", "not-a-registered-key")])
        XCTAssertEqual(wrong.status, 401)
        XCTAssertNotNil(try wrong.json()["error"]?.stringValue)

        // A key in the query string is never consulted.
        let body: JSONValue = [
            "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": ["_meta": TestHost.meta],
        ]
        let query = await host.send(
            HostRequest(
                method: "POST", path: "/mcp", query: "x-api-key=\(Self.keyA)&api_key=\(Self.keyA)",
                headers: [
                    "content-type": "application/json", "accept": "application/json, text/event-stream",
                    "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list",
                ], body: body.serialized()))
        XCTAssertEqual(query.status, 401)

        // Two key headers are refused rather than guessed between.
        let twice = await host.send(
            HostRequest(
                method: "POST", path: "/mcp",
                headers: HostHeaders([
                    ("content-type", "application/json"), ("accept", "application/json, text/event-stream"),
                    ("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list"),
                    ("x-api-key", Self.keyB), ("x-api-key", Self.keyA),
                ]), body: body.serialized()))
        XCTAssertEqual(twice.status, 401)

        // Refused before any tenant server is built.
        XCTAssertEqual(host.app.tenants.counters.built, 0)

        let good = await host.stateless("tools/list", headers: [("x-api-key", Self.keyA)])
        XCTAssertEqual(good.status, 200)
        XCTAssertEqual(host.app.tenants.cachedTenantIDs, ["alpha"])
        assertNoKeyInLogs(host)
    }

    func testCustomHeaderNameAndCORSPreflight() async throws {
        let host = try makeHost { $0.auth.header = "X-Customer-Key" }
        let viaDefault = await host.stateless("tools/list", headers: [("x-api-key", Self.keyA)])
        XCTAssertEqual(viaDefault.status, 401)
        let viaCustom = await host.stateless("tools/list", headers: [("x-customer-key", Self.keyA)])
        XCTAssertEqual(viaCustom.status, 200)
        let preflight = await host.send(
            HostRequest(method: "OPTIONS", path: "/mcp", headers: ["origin": "http://localhost:3000"]))
        XCTAssertEqual(preflight.status, 204)
        XCTAssertTrue(preflight.headers["access-control-allow-headers"]?.contains("x-customer-key") ?? false)
    }

    func testEachTenantSeesOnlyItsPluginsAndItsConfiguration() async throws {
        let host = try makeHost()
        func toolNames(_ key: String) async throws -> [String] {
            let response = await host.stateless("tools/list", headers: [("x-api-key", key)])
            XCTAssertEqual(response.status, 200)
            return try response.json().at("result", "tools")?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        }
        let alpha = try await toolNames(Self.keyA)
        let beta = try await toolNames(Self.keyB)
        XCTAssertTrue(alpha.contains("echo.echo") && alpha.contains("cecho.echo"), "\(alpha)")
        XCTAssertFalse(alpha.contains { $0.hasPrefix("faults.") }, "\(alpha)")
        XCTAssertTrue(beta.contains("echo.echo"), "\(beta)")
        XCTAssertFalse(beta.contains { $0.hasPrefix("cecho.") || $0.hasPrefix("faults.") }, "\(beta)")

        // Beta cannot reach a plugin only alpha has.
        let denied = await host.stateless(
            "tools/call", ["name": "cecho.echo", "arguments": ["message": "x"]], headers: [("x-api-key", Self.keyB)])
        XCTAssertEqual(try denied.json().at("error", "code")?.intValue, -32602)
        XCTAssertTrue(try denied.json().at("error", "message")?.stringValue?.contains("Unknown tool") ?? false)
        let allowed = await host.stateless(
            "tools/call", ["name": "cecho.echo", "arguments": ["message": "x"]], headers: [("x-api-key", Self.keyA)])
        XCTAssertNil(try allowed.json()["error"])

        // Each instance holds its own tenant's configuration only.
        for (key, tenant, greeting) in [(Self.keyA, "alpha", "hola alpha"), (Self.keyB, "beta", "hi beta")] {
            let response = await host.stateless("tools/call", ["name": "echo.whoami", "arguments": [:]], headers: [("x-api-key", key)])
            let structured = try response.json().at("result", "structuredContent")
            XCTAssertEqual(structured?["tenant"]?.stringValue, tenant)
            XCTAssertEqual(structured?["greeting"]?.stringValue, greeting)
        }
        assertNoKeyInLogs(host)
        let created = host.logs.text.split(separator: "\n").filter { $0.contains("tenant server created") }
        XCTAssertEqual(created.count, 2, "\(created)")
        XCTAssertTrue(created.contains { $0.contains("\"tenant\":\"alpha\"") } && created.contains { $0.contains("\"tenant\":\"beta\"") })
    }

    func testSessionOfOneTenantIsUnknownToAnother() async throws {
        let host = try makeHost()
        let initialize = await host.post(
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
            headers: [("x-api-key", Self.keyA)])
        XCTAssertEqual(initialize.status, 200)
        let session = try XCTUnwrap(initialize.headers["mcp-session-id"])
        let list = #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#
        let common = [("mcp-session-id", session), ("mcp-protocol-version", "2025-11-25")]
        let asBeta = await host.post(list, headers: common + [("x-api-key", Self.keyB)])
        XCTAssertEqual(asBeta.status, 404)
        let asNobody = await host.post(list, headers: common)
        XCTAssertEqual(asNobody.status, 401)
        let asAlpha = await host.post(list, headers: common + [("x-api-key", Self.keyA)])
        XCTAssertEqual(asAlpha.status, 200)
        let deleteAsBeta = await host.send(
            HostRequest(
                method: "DELETE", path: "/mcp",
                headers: HostHeaders((common + [("x-api-key", Self.keyB)]).map { (name: $0.0, value: $0.1) })))
        XCTAssertEqual(deleteAsBeta.status, 404)
        let stillThere = await host.post(list, headers: common + [("x-api-key", Self.keyA)])
        XCTAssertEqual(stillThere.status, 200)
        assertNoKeyInLogs(host)
    }

    func testRateLimitAnswers429WithRetryAfterPerTenant() async throws {
        let host = try makeHost {
            $0.tenancy.rateLimitPerS = 0.5
            $0.tenancy.rateLimitBurst = 2
        }
        for _ in 0..<2 {
            let response = await host.stateless("tools/list", headers: [("x-api-key", Self.keyA)])
            XCTAssertEqual(response.status, 200)
        }
        let limited = await host.stateless("tools/list", headers: [("x-api-key", Self.keyA)])
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.headers["retry-after"], "2")
        XCTAssertTrue(try limited.json()["error"]?.stringValue?.contains("rate limit") ?? false)
        // Another tenant has its own bucket.
        let other = await host.stateless("tools/list", headers: [("x-api-key", Self.keyB)])
        XCTAssertEqual(other.status, 200)
        // Unauthenticated requests are refused before they could drain anyone's bucket.
        let anonymous = await host.stateless("tools/list")
        XCTAssertEqual(anonymous.status, 401)
        XCTAssertTrue(host.logs.text.contains("rate limited"))
        assertNoKeyInLogs(host)
    }

    func testTokenBucketRefillsAndForgetsFullBuckets() {
        let limiter = TenantRateLimiter(ratePerSecond: 2, burst: 3, pruneAt: 4)
        let start = ContinuousClock.now
        for _ in 0..<3 { XCTAssertNil(limiter.acquire("a", now: start)) }
        XCTAssertEqual(limiter.acquire("a", now: start), 1)
        // Half a second later one token has come back.
        XCTAssertNil(limiter.acquire("a", now: start + .milliseconds(500)))
        XCTAssertEqual(limiter.acquire("a", now: start + .milliseconds(500)), 1)
        for tenant in ["b", "c", "d", "e"] { XCTAssertNil(limiter.acquire(tenant, now: start + .milliseconds(500))) }
        XCTAssertEqual(limiter.bucketCount, 5)
        // A minute later every one of those buckets is full again, so they are forgotten when the
        // table next grows past its bound; the buckets in use are kept.
        for index in 0..<10 { XCTAssertNil(limiter.acquire("n\(index)", now: start + .seconds(60))) }
        XCTAssertEqual(limiter.bucketCount, 10)
        // Default burst: one second's worth.
        XCTAssertEqual(TenantRateLimiter(ratePerSecond: 5, burst: 0).burst, 5)
        XCTAssertEqual(TenantRateLimiter(ratePerSecond: 0.2, burst: 0).burst, 1)
    }

    // MARK: the per-tenant factory

    func registry(_ host: TestHost, maxTenants: Int, idle: Duration = .seconds(60)) -> TenantRegistry {
        TenantRegistry(
            tenants: [
                TenantSettings(id: "a", plugins: ["echo": ["greeting": "a"]]),
                TenantSettings(id: "b", plugins: ["echo": ["greeting": "b"], "cecho": [:]]),
                TenantSettings(id: "c", plugins: ["cecho": [:]]),
            ],
            directory: host.app.plugins, logger: Logger(label: "test") { JSONLogHandler(label: $0, level: .debug, sink: host.logs.sink) },
            limits: TenantRegistry.Limits(maxTenants: maxTenants, idleTimeout: idle))
    }

    func testLeastRecentlyUsedTenantIsEvictedAndItsInstancesDestroyed() throws {
        let host = try TestHost()
        let tenants = registry(host, maxTenants: 2)
        XCTAssertNil(tenants.server(for: "nobody"))
        weak var instanceOfB: PluginInstance?
        weak var serverOfB: TenantServer?
        do {
            let b = try XCTUnwrap(tenants.server(for: "b"))
            XCTAssertEqual(b.catalog().instances.count, 2)
            instanceOfB = b.catalog().instances.first
            serverOfB = b
        }
        XCTAssertNotNil(tenants.server(for: "a")?.catalog())
        XCTAssertNotNil(instanceOfB)
        // b is the least recently used when c arrives.
        XCTAssertNotNil(tenants.server(for: "c")?.catalog())
        XCTAssertEqual(tenants.cachedTenantIDs, ["c", "a"])
        XCTAssertNil(serverOfB, "the evicted tenant server is still alive")
        XCTAssertNil(instanceOfB, "the evicted tenant's plugin instance was not destroyed")
        XCTAssertEqual(tenants.counters.built, 3)
        XCTAssertEqual(tenants.counters.evicted, 1)
        // Using a tenant makes it the most recent: a is kept, c goes.
        _ = tenants.server(for: "a")
        _ = tenants.server(for: "b")
        XCTAssertEqual(tenants.cachedTenantIDs, ["b", "a"])
        XCTAssertTrue(host.logs.text.contains("tenant evicted"))
    }

    func testIdleTenantsExpire() throws {
        let host = try TestHost()
        let tenants = registry(host, maxTenants: 10, idle: .seconds(60))
        weak var instance: PluginInstance?
        do {
            let a = try XCTUnwrap(tenants.server(for: "a"))
            instance = a.catalog().instances.first
        }
        let start = ContinuousClock.now
        _ = tenants.server(for: "b")
        XCTAssertEqual(tenants.expireIdle(now: start + .seconds(30)), 0)
        XCTAssertEqual(tenants.cachedTenantIDs.count, 2)
        XCTAssertEqual(tenants.expireIdle(now: start + .seconds(120)), 2)
        XCTAssertEqual(tenants.cachedTenantIDs, [])
        XCTAssertNil(instance, "an expired tenant's plugin instance was not destroyed")
        // Used again: rebuilt from its settings.
        let again = try XCTUnwrap(tenants.server(for: "a"))
        XCTAssertEqual(again.catalog().instances.count, 1)
        XCTAssertEqual(tenants.counters.built, 3)
    }

    func testConcurrentFirstRequestsBuildATenantOnce() async throws {
        let host = try TestHost()
        let tenants = registry(host, maxTenants: 10)
        let servers = await withTaskGroup(of: ObjectIdentifier?.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    guard let server = tenants.server(for: "b") else { return nil }
                    _ = server.catalog()
                    return ObjectIdentifier(server)
                }
            }
            var out: [ObjectIdentifier?] = []
            for await id in group { out.append(id) }
            return out
        }
        XCTAssertEqual(Set(servers.compactMap { $0 }).count, 1)
        XCTAssertEqual(servers.count, 64)
        XCTAssertEqual(tenants.counters.built, 1)
        XCTAssertEqual(tenants.server(for: "b")?.instancesCreated, 2)

        // The same through the gate: many first requests with one key, one build.
        let gated = try makeHost()
        let statuses = await withTaskGroup(of: Int.self) { group in
            for index in 0..<32 {
                group.addTask {
                    await gated.stateless(
                        "tools/call", ["name": "echo.echo", "arguments": ["message": .string("m\(index)")]],
                        id: .int(Int64(index)), headers: [("x-api-key", Self.keyB)]
                    ).status
                }
            }
            var out: [Int] = []
            for await status in group { out.append(status) }
            return out
        }
        XCTAssertEqual(statuses, Array(repeating: 200, count: 32))
        XCTAssertEqual(gated.app.tenants.counters.built, 1)
        XCTAssertEqual(gated.app.tenants.server(for: "beta")?.instancesCreated, 1)
    }

    func testConfiguredTenancyLimitsReachTheRegistry() throws {
        let host = try makeHost {
            $0.tenancy.maxTenants = 1
            $0.tenancy.idleTimeoutS = 5
        }
        XCTAssertEqual(host.app.tenants.limits.maxTenants, 1)
        XCTAssertEqual(host.app.tenants.limits.idleTimeout, .seconds(5))
        _ = host.app.tenants.server(for: "alpha")
        _ = host.app.tenants.server(for: "beta")
        XCTAssertEqual(host.app.tenants.cachedTenantIDs, ["beta"])
    }

    // MARK: pass-through keys

    func testPassThroughKeyNamesTheTenantAndReachesOnlyItsInstance() async throws {
        let host = try TestHost(libraries: ["MCPPluginEcho"]) { config in
            config.auth.mode = "pass_through"
            config.tenants = [
                HostConfig.Tenant(id: "template", plugins: ["echo": ["greeting": "pt"], "vault": ["region": "eu-1"]])
            ]
        }
        try compileFixture("passthrough", into: host.plugins)
        host.app.plugins.rescan()
        XCTAssertEqual(host.app.tenants.passThroughHeaders, ["x-vault-key"])
        let key1 = "vault-key-one-93b1c8", key2 = "vault-key-two-4e7a0d"

        let missing = await host.stateless("tools/list")
        XCTAssertEqual(missing.status, 401)
        XCTAssertTrue(try missing.json()["error"]?.stringValue?.contains("x-vault-key") ?? false)

        func call(_ tool: String, key: String) async throws -> JSONValue? {
            let response = await host.stateless("tools/call", ["name": .string(tool), "arguments": [:]], headers: [("X-Vault-Key", key)])
            XCTAssertEqual(response.status, 200)
            return try response.json().at("result", "structuredContent")
        }
        let seen1 = try await call("vault.config", key: key1)
        XCTAssertEqual(seen1, ["region": "eu-1", "api_key": .string(key1)])
        let seen2 = try await call("vault.config", key: key2)
        XCTAssertEqual(seen2, ["region": "eu-1", "api_key": .string(key2)])
        let who1 = try await call("echo.whoami", key: key1)
        let who2 = try await call("echo.whoami", key: key2)
        let tenant1 = try XCTUnwrap(who1?["tenant"]?.stringValue)
        let tenant2 = try XCTUnwrap(who2?["tenant"]?.stringValue)
        XCTAssertTrue(tenant1.hasPrefix("pt-") && tenant1.count == 35, tenant1)
        XCTAssertNotEqual(tenant1, tenant2)
        XCTAssertFalse(tenant1.contains(key1))
        let again = try await call("echo.whoami", key: key1)
        XCTAssertEqual(again?["tenant"]?.stringValue, tenant1)
        XCTAssertEqual(again?["greeting"]?.stringValue, "pt")
        XCTAssertEqual(host.app.tenants.counters.built, 2)

        // A session started with one key is unknown under another.
        let initialize = await host.post(
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
            headers: [("x-vault-key", key1)])
        let session = try XCTUnwrap(initialize.headers["mcp-session-id"])
        let list = #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#
        let common = [("mcp-session-id", session), ("mcp-protocol-version", "2025-11-25")]
        let other = await host.post(list, headers: common + [("x-vault-key", key2)])
        XCTAssertEqual(other.status, 404)
        let same = await host.post(list, headers: common + [("x-vault-key", key1)])
        XCTAssertEqual(same.status, 200)

        // A key the plugin's configuration schema refuses: no instance, and the refusal does not quote it.
        let badKey = "vault.key.with.dots.77"
        let refused = await host.stateless(
            "tools/call", ["name": "vault.config", "arguments": [:]], headers: [("x-vault-key", badKey)])
        XCTAssertEqual(try refused.json().at("error", "code")?.intValue, -32602)
        XCTAssertTrue(host.logs.text.contains("value withheld"), host.logs.text)

        let logs = host.logs.text
        XCTAssertFalse(logs.contains(key1) || logs.contains(key2) || logs.contains(badKey), logs)
    }

    func testPassThroughTenantWithoutTheHeaderDoesNotGetThePlugin() throws {
        let host = try TestHost(libraries: ["MCPPluginEcho"]) { config in
            config.auth.mode = "pass_through"
            config.tenants = [HostConfig.Tenant(id: "template")]
        }
        try compileFixture("passthrough", into: host.plugins)
        host.app.plugins.rescan()
        // Only the registry decides here: a tenant whose request carried no vault key has no vault instance.
        let without = try XCTUnwrap(
            host.app.tenants.passThroughServer(id: "pt-test-a", template: "template", credentials: ["x-other": "k"]))
        XCTAssertEqual(without.catalog().instances.map(\.image.name), ["echo"])
        let with = try XCTUnwrap(
            host.app.tenants.passThroughServer(id: "pt-test-b", template: "template", credentials: ["x-vault-key": "k"]))
        XCTAssertEqual(Set(with.catalog().instances.map(\.image.name)), ["echo", "vault"])
        XCTAssertNil(host.app.tenants.passThroughServer(id: "pt-test-c", template: "nobody", credentials: [:]))
    }

    // MARK: egress

    func testEachTenantsInstancesReachOnlyItsEgressHosts() async throws {
        let host = try TestHost(libraries: ["MCPPluginEcho"]) { config in
            config.auth.mode = "api_key"
            config.tenants = [
                HostConfig.Tenant(
                    id: "alpha", plugins: ["probe": [:]], egress: ["127.0.0.1"], apiKeySHA256: [APIKeyDigest.hex(Self.keyA)]),
                HostConfig.Tenant(
                    id: "beta", plugins: ["probe": [:]], egress: ["*.example.com"], apiKeySHA256: [APIKeyDigest.hex(Self.keyB)]),
            ]
        }
        try compileFixture("egress", into: host.plugins)
        host.app.plugins.rescan()
        func fetch(_ url: String, key: String) async throws -> (isError: Bool, text: String) {
            let response = await host.stateless(
                "tools/call", ["name": "probe.fetch", "arguments": ["url": .string(url), "timeout_ms": 300]],
                headers: [("x-api-key", key)])
            let result = try response.json()["result"]
            return (result?["isError"]?.boolValue ?? false, result?.at("content", 0, "text")?.stringValue ?? "")
        }
        // Nothing listens on port 9 of loopback: alpha may try (and fails to connect), beta is stopped by the host.
        let alpha = try await fetch("http://127.0.0.1:9/x", key: Self.keyA)
        XCTAssertTrue(alpha.isError)
        XCTAssertFalse(alpha.text.contains("egress denied"), alpha.text)
        let beta = try await fetch("http://127.0.0.1:9/x", key: Self.keyB)
        XCTAssertTrue(beta.isError)
        XCTAssertTrue(beta.text.contains("egress denied: host 127.0.0.1 is not in this tenant's allow-list"), beta.text)
        let sneaky = try await fetch("http://127.0.0.1:9/?host=api.example.com", key: Self.keyB)
        XCTAssertTrue(sneaky.text.contains("egress denied"), sneaky.text)
        let alphaElsewhere = try await fetch("http://api.example.com/x", key: Self.keyA)
        XCTAssertTrue(alphaElsewhere.text.contains("egress denied: host api.example.com"), alphaElsewhere.text)
        assertNoKeyInLogs(host)
    }
}
