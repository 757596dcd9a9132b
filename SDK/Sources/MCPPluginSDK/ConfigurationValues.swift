#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Checks every plugin that talks to an HTTP service makes on its per-tenant configuration. A
/// thrown `ToolError` refuses the configuration; messages name the configuration key, never a
/// secret's value.
public enum ConfigurationValues {
    /// An `http(s)://` base URL without credentials, query or fragment, returned without trailing
    /// slashes. Credentials in a URL would end up in logs and error messages, so they are refused
    /// (`credentialsHint` says what to use instead, e.g. "use token_env or token_file").
    public static func baseURL(_ url: String, key: String = "url", credentialsHint: String) throws -> String {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw ToolError("'\(key)' must be an http:// or https:// URL")
        }
        guard let authority = authority(of: url), !authority.isEmpty else { throw ToolError("'\(key)' has no host") }
        guard !authority.contains("@") else { throw ToolError("'\(key)' must not carry credentials: \(credentialsHint)") }
        guard !url.contains("?"), !url.contains("#") else { throw ToolError("'\(key)' must not have a query or fragment") }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// `host[:port]` of an absolute URL (nil when it has no `scheme://`).
    public static func authority(of url: String) -> String? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let end = rest.firstIndex(where: { (c: Character) in c == "/" || c == "?" || c == "#" }) ?? rest.endIndex
        return String(rest[..<end])
    }

    /// A secret the configuration names rather than contains: the environment variable named by
    /// `<name>_env`, or the file named by `<name>_file` (a mounted secret). nil when neither is
    /// configured; an error when both are, or the source is unset, unreadable or empty. Surrounding
    /// whitespace (the newline `echo secret > file` leaves) is removed; a value with control
    /// characters is refused, because secrets travel in HTTP headers.
    public static func secret(
        _ name: String, env variable: String?, file path: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String? {
        let value: String
        switch (variable, path) {
        case (nil, nil):
            return nil
        case (.some, .some):
            throw ToolError("configure at most one of '\(name)_env' and '\(name)_file'")
        case (.some(let variable), nil):
            guard let text = environment[variable], !trimmed(text).isEmpty else {
                throw ToolError("\(name)_env: environment variable \(variable) is not set")
            }
            value = trimmed(text)
        case (nil, .some(let path)):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ToolError("\(name)_file: cannot read \(path)")
            }
            guard let text = String(data: data, encoding: .utf8), !trimmed(text).isEmpty else {
                throw ToolError("\(name)_file: \(path) is empty or not UTF-8")
            }
            value = trimmed(text)
        }
        guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw ToolError("the secret from \(variable.map { "\(name)_env \($0)" } ?? "\(name)_file") contains control characters")
        }
        return value
    }

    static func trimmed(_ text: String) -> String {
        var slice = Substring(text)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
