import MCPConfig
import XCTest

final class ConfigTests: XCTestCase {
    private func load(_ yaml: String, env: [String: String] = [:]) throws -> HostConfig {
        let directory = try TemporaryDirectory()
        let path = directory.write("mcp-host.yaml", yaml)
        return try ConfigLoader.load(path: path, environment: env)
    }

    private func error(_ yaml: String, env: [String: String] = [:]) -> String {
        do {
            _ = try load(yaml, env: env)
            return "no error"
        } catch { return "\(error)" }
    }

    func testDefaultsServeLoopbackWithOneLocalTenant() throws {
        let config = try ConfigLoader.load(path: nil, environment: [:])
        XCTAssertEqual(config.server.host, "127.0.0.1")
        XCTAssertEqual(config.server.maxBodyBytes, 4 * 1024 * 1024)
        XCTAssertEqual(config.tenants.map(\.id), ["local"])
    }

    func testTheShippedExampleIsValid() throws {
        let config = try ConfigLoader.load(path: "\(BuildProducts.repositoryRoot)/config/mcp-host.yaml", environment: [:])
        XCTAssertEqual(config.server.path, "/mcp")
    }

    func testErrorsNameFileKeyAndExpectation() {
        let unknown = error("server:\n  prot: 80\n")
        XCTAssertTrue(unknown.contains("mcp-host.yaml: server.prot: unknown key; expected one of host, port"), unknown)
        let wrongType = error("server:\n  port: eighty\n")
        XCTAssertTrue(wrongType.contains("server.port: expected an integer in 0...65535"), wrongType)
        let list = error("server:\n  allowed_origins: https://x\n")
        XCTAssertTrue(list.contains("server.allowed_origins: expected a list of strings"), list)
        let tenant = error("tenants:\n  - id: a\n  - id: a\n")
        XCTAssertTrue(tenant.contains("tenants[1].id: duplicate tenant id a"), tenant)
        let yaml = error("server: [unclosed\n")
        XCTAssertTrue(yaml.contains("not valid YAML"), yaml)
    }

    func testConnectionIdleTimeout() throws {
        XCTAssertEqual(try ConfigLoader.load(path: nil, environment: [:]).server.connectionIdleTimeoutS, 60)
        XCTAssertEqual(try load("server:\n  connection_idle_timeout_s: 5\n").server.connectionIdleTimeoutS, 5)
        XCTAssertEqual(
            try load("", env: ["MCPHOST_SERVER_CONNECTION_IDLE_TIMEOUT_S": "7"]).server.connectionIdleTimeoutS, 7)
        let zero = error("server:\n  connection_idle_timeout_s: 0\n")
        XCTAssertTrue(zero.contains("server.connection_idle_timeout_s: expected an integer in 1...86400"), zero)
    }

    func testNoAuthIsRefusedOffLoopback() {
        let message = error("server:\n  host: 0.0.0.0\n")
        XCTAssertTrue(message.contains("auth.mode") && message.contains("loopback"), message)
    }

    func testEnvironmentOverridesTheFile() throws {
        let config = try load(
            "server:\n  port: 9000\n",
            env: ["MCPHOST_SERVER_PORT": "9100", "MCPHOST_SERVER_ALLOWED_ORIGINS": "https://a, https://b", "MCPHOST_LOGGING_LEVEL": "debug"])
        XCTAssertEqual(config.server.port, 9100)
        XCTAssertEqual(config.server.allowedOrigins, ["https://a", "https://b"])
        XCTAssertEqual(config.logging.level, "debug")
        let typo = error("", env: ["MCPHOST_SERVER_PROT": "1"])
        XCTAssertTrue(typo.contains("environment: MCPHOST_SERVER_PROT: unknown setting"), typo)
    }
}
