import Foundation
import MCPPluginSDK
import XCTest

/// The SDK's configuration checks that the bundled HTTP plugins share.
final class ConfigurationValuesTests: XCTestCase {
    func testBaseURL() throws {
        XCTAssertEqual(try ConfigurationValues.baseURL("https://grafana.example/sub//", credentialsHint: "h"), "https://grafana.example/sub")
        for (url, problem) in [
            ("ftp://x", "must be an http:// or https:// URL"), ("http://", "has no host"),
            ("https://user:pw@host", "must not carry credentials: h"), ("http://h/?a=1", "must not have a query or fragment"),
            ("http://h/#f", "must not have a query or fragment"),
        ] {
            XCTAssertThrowsError(try ConfigurationValues.baseURL(url, key: "endpoint", credentialsHint: "h")) { error in
                XCTAssertEqual("\(error)", "'endpoint' \(problem)", url)
            }
        }
        XCTAssertEqual(ConfigurationValues.authority(of: "http://h:8123/p?q"), "h:8123")
        XCTAssertNil(ConfigurationValues.authority(of: "h:8123"))
    }

    func testSecretFromEnvironmentOrFile() throws {
        XCTAssertNil(try ConfigurationValues.secret("token", env: nil, file: nil, environment: [:]))
        XCTAssertEqual(try ConfigurationValues.secret("token", env: "T", file: nil, environment: ["T": " s3cret\n"]), "s3cret")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(getpid())")
        try "from-file\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertEqual(try ConfigurationValues.secret("password", env: nil, file: file.path, environment: [:]), "from-file")

        func refusal(_ env: String?, _ path: String?, _ environment: [String: String] = [:]) -> String {
            do {
                _ = try ConfigurationValues.secret("token", env: env, file: path, environment: environment)
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal("T", file.path), "configure at most one of 'token_env' and 'token_file'")
        XCTAssertEqual(refusal("UNSET", nil), "token_env: environment variable UNSET is not set")
        XCTAssertEqual(refusal("T", nil, ["T": "  \n"]), "token_env: environment variable T is not set")
        XCTAssertEqual(refusal(nil, "/nonexistent/x"), "token_file: cannot read /nonexistent/x")
        // A value that would split an HTTP header is refused, and the message does not quote it.
        let message = refusal("T", nil, ["T": "abc\r\nX-Evil: 1"])
        XCTAssertEqual(message, "the secret from token_env T contains control characters")
    }
}
