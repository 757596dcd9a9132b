import Foundation
import MCPJSON
import Yams

/// Reads `mcp-host.yaml`, applies `MCPHOST_<SECTION>_<KEY>` environment overrides, validates.
public enum ConfigLoader {
    public static func load(path: String?, environment: [String: String]) throws(ConfigError) -> HostConfig {
        var config = HostConfig()
        if let path {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigError(file: path, key: "(file)", problem: "cannot read: \(error.localizedDescription)")
            }
            config.source = path
            let value: JSONValue
            do { value = try yamlToJSON(try Yams.compose(yaml: text), file: path, key: "") } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError(file: path, key: "(file)", problem: "not valid YAML: \(error)")
            }
            try apply(value, to: &config, file: path)
        }
        try applyEnvironment(environment, to: &config)
        try validate(config)
        return config
    }

    // MARK: YAML → JSON (keeping types: YAML scalars resolve to bool/int/float/null/string)

    static func yamlToJSON(_ node: Node?, file: String, key: String) throws(ConfigError) -> JSONValue {
        guard let node else { return .object([:]) }
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if let b = Bool.construct(from: scalar) { return .bool(b) }
                if let i = Int.construct(from: scalar) { return .int(Int64(i)) }
                if let d = Double.construct(from: scalar) { return .double(d) }
                if NSNullLike.isNull(scalar.string) { return .null }
            }
            return .string(scalar.string)
        case .sequence(let sequence):
            var out: [JSONValue] = []
            for (index, element) in sequence.enumerated() {
                out.append(try yamlToJSON(element, file: file, key: "\(key)[\(index)]"))
            }
            return .array(out)
        case .mapping(let mapping):
            var object = JSONObject()
            for (k, v) in mapping {
                guard case .scalar(let keyScalar) = k else {
                    throw ConfigError(file: file, key: key, problem: "mapping keys must be strings")
                }
                let path = key.isEmpty ? keyScalar.string : "\(key).\(keyScalar.string)"
                object[keyScalar.string] = try yamlToJSON(v, file: file, key: path)
            }
            return .object(object)
        case .alias:
            throw ConfigError(file: file, key: key, problem: "YAML aliases are not supported")
        }
    }

    enum NSNullLike {
        static func isNull(_ s: String) -> Bool { s == "~" || s == "null" || s == "Null" || s == "NULL" || s.isEmpty }
    }

    // MARK: mapping onto HostConfig

    struct Reader {
        let file: String
        let prefix: String
        let object: JSONObject

        func keys(allowed: [String]) throws(ConfigError) {
            for key in object.keys where !allowed.contains(key) {
                throw ConfigError(
                    file: file, key: prefix + key,
                    problem: "unknown key; expected one of \(allowed.joined(separator: ", "))")
            }
        }

        func int(_ key: String, _ target: inout Int, min: Int = Int.min, max: Int = Int.max) throws(ConfigError) {
            guard let value = object[key] else { return }
            guard let number = value.intValue, number >= min, number <= max else {
                throw ConfigError(file: file, key: prefix + key, problem: "expected an integer in \(min)...\(max), got \(value)")
            }
            target = Int(number)
        }

        func double(_ key: String, _ target: inout Double, min: Double, max: Double) throws(ConfigError) {
            guard let value = object[key] else { return }
            let number: Double?
            switch value {
            case .int(let int): number = Double(int)
            case .double(let double): number = double
            case .string(let text): number = Double(text)
            default: number = nil
            }
            guard let number, number.isFinite, number >= min, number <= max else {
                throw ConfigError(file: file, key: prefix + key, problem: "expected a number in \(min)...\(max), got \(value)")
            }
            target = number
        }

        func string(_ key: String, _ target: inout String) throws(ConfigError) {
            guard let value = object[key] else { return }
            guard let text = value.stringValue else {
                throw ConfigError(file: file, key: prefix + key, problem: "expected a string, got \(value)")
            }
            target = text
        }

        func optionalString(_ key: String, _ target: inout String?) throws(ConfigError) {
            guard let value = object[key], !value.isNull else { return }
            guard let text = value.stringValue else {
                throw ConfigError(file: file, key: prefix + key, problem: "expected a string, got \(value)")
            }
            target = text
        }

        func strings(_ key: String, _ target: inout [String]) throws(ConfigError) {
            guard let value = object[key], !value.isNull else { return }
            guard let array = value.arrayValue else {
                throw ConfigError(file: file, key: prefix + key, problem: "expected a list of strings, got \(value)")
            }
            var out: [String] = []
            for (index, element) in array.enumerated() {
                guard let text = element.stringValue else {
                    throw ConfigError(file: file, key: "\(prefix)\(key)[\(index)]", problem: "expected a string, got \(element)")
                }
                out.append(text)
            }
            target = out
        }

        /// A string or a list of strings (`audience: my-api` and `audience: [a, b]` both work).
        func stringOrStrings(_ key: String, _ target: inout [String]) throws(ConfigError) {
            if let text = object[key]?.stringValue {
                target = text.split(separator: " ").map(String.init)
                return
            }
            try strings(key, &target)
        }

        func section(_ key: String) throws(ConfigError) -> Reader? {
            guard let value = object[key], !value.isNull else { return nil }
            guard let section = value.objectValue else {
                throw ConfigError(file: file, key: prefix + key, problem: "expected a mapping, got \(value)")
            }
            return Reader(file: file, prefix: prefix + key + ".", object: section)
        }
    }

    static func apply(_ value: JSONValue, to config: inout HostConfig, file: String) throws(ConfigError) {
        guard let root = value.objectValue else {
            throw ConfigError(file: file, key: "(root)", problem: "expected a mapping at the top level")
        }
        let top = Reader(file: file, prefix: "", object: root)
        try top.keys(allowed: ["server", "plugins", "logging", "auth", "tenancy", "tenants"])
        if let server = try top.section("server") {
            try server.keys(allowed: [
                "host", "port", "path", "threads", "max_body_bytes", "call_timeout_ms", "allowed_origins",
                "session_idle_timeout_s", "connection_idle_timeout_s", "max_sessions", "tools_page_size", "instructions",
                "metrics_path",
            ])
            try server.string("host", &config.server.host)
            try server.int("port", &config.server.port, min: 0, max: 65535)
            try server.string("path", &config.server.path)
            try server.int("threads", &config.server.threads, min: 0, max: 256)
            try server.int("max_body_bytes", &config.server.maxBodyBytes, min: 1024, max: 1 << 30)
            try server.int("call_timeout_ms", &config.server.callTimeoutMs, min: 1, max: 3_600_000)
            try server.strings("allowed_origins", &config.server.allowedOrigins)
            try server.int("session_idle_timeout_s", &config.server.sessionIdleTimeoutS, min: 1)
            try server.int("connection_idle_timeout_s", &config.server.connectionIdleTimeoutS, min: 1, max: 86_400)
            try server.int("max_sessions", &config.server.maxSessions, min: 1)
            try server.int("tools_page_size", &config.server.toolsPageSize, min: 1, max: 10_000)
            try server.optionalString("instructions", &config.server.instructions)
            try server.optionalString("metrics_path", &config.server.metricsPath)
        }
        if let plugins = try top.section("plugins") {
            try plugins.keys(allowed: ["directory", "allow_sha256", "reload_interval_ms", "cache_directory"])
            try plugins.optionalString("directory", &config.plugins.directory)
            try plugins.strings("allow_sha256", &config.plugins.allowSHA256)
            try plugins.int("reload_interval_ms", &config.plugins.reloadIntervalMs, min: 0)
            try plugins.optionalString("cache_directory", &config.plugins.cacheDirectory)
        }
        if let logging = try top.section("logging") {
            try logging.keys(allowed: ["level"])
            try logging.string("level", &config.logging.level)
        }
        if let auth = try top.section("auth") {
            try auth.keys(allowed: ["mode", "header", "jwt"])
            try auth.string("mode", &config.auth.mode)
            try auth.string("header", &config.auth.header)
            if let jwt = try auth.section("jwt") {
                try jwt.keys(allowed: [
                    "issuer", "audience", "jwks_file", "jwks_url", "jwks_cache_s", "required_scopes", "tenant_claim",
                    "leeway_s", "resource", "authorization_servers",
                ])
                try jwt.string("issuer", &config.auth.jwt.issuer)
                try jwt.stringOrStrings("audience", &config.auth.jwt.audience)
                try jwt.optionalString("jwks_file", &config.auth.jwt.jwksFile)
                try jwt.optionalString("jwks_url", &config.auth.jwt.jwksURL)
                try jwt.int("jwks_cache_s", &config.auth.jwt.jwksCacheS, min: 1, max: 86_400 * 7)
                try jwt.stringOrStrings("required_scopes", &config.auth.jwt.requiredScopes)
                try jwt.string("tenant_claim", &config.auth.jwt.tenantClaim)
                try jwt.int("leeway_s", &config.auth.jwt.leewayS, min: 0, max: 600)
                try jwt.optionalString("resource", &config.auth.jwt.resource)
                try jwt.strings("authorization_servers", &config.auth.jwt.authorizationServers)
            }
        }
        if let tenancy = try top.section("tenancy") {
            try tenancy.keys(allowed: ["max_tenants", "idle_timeout_s", "rate_limit_per_s", "rate_limit_burst"])
            try tenancy.int("max_tenants", &config.tenancy.maxTenants, min: 1, max: 10_000_000)
            try tenancy.int("idle_timeout_s", &config.tenancy.idleTimeoutS, min: 1)
            try tenancy.double("rate_limit_per_s", &config.tenancy.rateLimitPerS, min: 0, max: 1_000_000)
            try tenancy.int("rate_limit_burst", &config.tenancy.rateLimitBurst, min: 0, max: 10_000_000)
        }
        if let tenants = root["tenants"], !tenants.isNull {
            guard let list = tenants.arrayValue else {
                throw ConfigError(file: file, key: "tenants", problem: "expected a list of tenants")
            }
            config.tenants = []
            for (index, element) in list.enumerated() {
                let key = "tenants[\(index)]"
                guard let object = element.objectValue else {
                    throw ConfigError(
                        file: file, key: key, problem: "expected a mapping with id, plugins, egress, api_key_sha256, jwt_claim_values")
                }
                let reader = Reader(file: file, prefix: key + ".", object: object)
                try reader.keys(allowed: ["id", "plugins", "egress", "api_key_sha256", "jwt_claim_values"])
                var id = ""
                try reader.string("id", &id)
                var plugins: [String: JSONValue]?
                if let pluginValue = object["plugins"], !pluginValue.isNull {
                    guard let pluginObject = pluginValue.objectValue else {
                        throw ConfigError(file: file, key: key + ".plugins", problem: "expected a mapping of plugin name to its settings")
                    }
                    var map: [String: JSONValue] = [:]
                    for entry in pluginObject { map[entry.key] = entry.value.isNull ? .object([:]) : entry.value }
                    plugins = map
                }
                var egress: [String]?
                if object["egress"] != nil {
                    var list: [String] = []
                    try reader.strings("egress", &list)
                    egress = list
                }
                var keys: [String] = []
                try reader.strings("api_key_sha256", &keys)
                var claimValues: [String]?
                if object["jwt_claim_values"] != nil {
                    var list: [String] = []
                    try reader.strings("jwt_claim_values", &list)
                    claimValues = list
                }
                config.tenants.append(
                    HostConfig.Tenant(id: id, plugins: plugins, egress: egress, apiKeySHA256: keys, jwtClaimValues: claimValues))
            }
        }
    }

    // MARK: environment

    /// `MCPHOST_SERVER_PORT=9000`, `MCPHOST_PLUGINS_DIRECTORY=/opt/plugins`,
    /// `MCPHOST_SERVER_ALLOWED_ORIGINS=https://a,https://b`, ...
    static func applyEnvironment(_ environment: [String: String], to config: inout HostConfig) throws(ConfigError) {
        var sections: [String: JSONObject] = [:]
        let known: [String: [String]] = [
            "server": [
                "host", "port", "path", "threads", "max_body_bytes", "call_timeout_ms", "allowed_origins",
                "session_idle_timeout_s", "connection_idle_timeout_s", "max_sessions", "tools_page_size", "instructions",
                "metrics_path",
            ],
            "plugins": ["directory", "allow_sha256", "reload_interval_ms", "cache_directory"],
            "logging": ["level"],
            "auth": ["mode", "header"],
            "tenancy": ["max_tenants", "idle_timeout_s", "rate_limit_per_s", "rate_limit_burst"],
        ]
        let lists: Set<String> = ["allowed_origins", "allow_sha256"]
        for (name, raw) in environment where name.hasPrefix("MCPHOST_") {
            let rest = name.dropFirst("MCPHOST_".count).lowercased()
            guard let section = known.keys.first(where: { rest.hasPrefix($0 + "_") }) else { continue }
            let key = String(rest.dropFirst(section.count + 1))
            guard known[section]!.contains(key) else {
                throw ConfigError(
                    file: "environment", key: name,
                    problem: "unknown setting; \(section) has \(known[section]!.joined(separator: ", "))")
            }
            let value: JSONValue
            if lists.contains(key) {
                value = .array(raw.split(separator: ",").map { .string(String($0).trimmingSpaces) })
            } else if let int = Int64(raw) {
                value = .int(int)
            } else if key == "rate_limit_per_s", let double = Double(raw) {
                value = .double(double)
            } else {
                value = .string(raw)
            }
            sections[section, default: [:]][key] = value
        }
        guard !sections.isEmpty else { return }
        var root = JSONObject()
        for (section, object) in sections { root[section] = .object(object) }
        try apply(.object(root), to: &config, file: "environment")
    }

    // MARK: validation

    static func validate(_ config: HostConfig) throws(ConfigError) {
        let file = config.source
        guard config.server.path.hasPrefix("/") else {
            throw ConfigError(file: file, key: "server.path", problem: "expected a path starting with '/', got \(config.server.path)")
        }
        if let metrics = config.server.metricsPath {
            guard metrics.hasPrefix("/"), metrics != config.server.path, metrics != "/health" else {
                throw ConfigError(
                    file: file, key: "server.metrics_path",
                    problem: "expected a path starting with '/' other than server.path and /health, got \(metrics)")
            }
        }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(config.logging.level) else {
            throw ConfigError(
                file: file, key: "logging.level",
                problem: "expected one of trace, debug, info, notice, warning, error, critical; got \(config.logging.level)")
        }
        guard ["none", "api_key", "pass_through", "jwt"].contains(config.auth.mode) else {
            throw ConfigError(
                file: file, key: "auth.mode",
                problem: "expected \"none\", \"api_key\", \"pass_through\" or \"jwt\"; got \(config.auth.mode)")
        }
        if config.auth.mode == "jwt" { try validateJWT(config) }
        guard isHeaderName(config.auth.header) else {
            throw ConfigError(file: file, key: "auth.header", problem: "expected an HTTP header name (letters, digits, -), got \(config.auth.header)")
        }
        if config.auth.mode == "none" && !isLoopback(config.server.host) {
            throw ConfigError(
                file: file, key: "auth.mode",
                problem: "\"none\" serves anyone who can connect, so it is only allowed when server.host is a loopback address (got \(config.server.host))")
        }
        guard !config.tenants.isEmpty else { throw ConfigError(file: file, key: "tenants", problem: "expected at least one tenant") }
        var seen = Set<String>()
        for (index, tenant) in config.tenants.enumerated() {
            guard !tenant.id.isEmpty, tenant.id.utf8.count <= 64,
                tenant.id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
            else {
                throw ConfigError(file: file, key: "tenants[\(index)].id", problem: "expected 1-64 visible ASCII characters")
            }
            guard seen.insert(tenant.id).inserted else {
                throw ConfigError(file: file, key: "tenants[\(index)].id", problem: "duplicate tenant id \(tenant.id)")
            }
        }
        for (index, hash) in config.plugins.allowSHA256.enumerated() {
            guard isSHA256Hex(hash) else {
                throw ConfigError(file: file, key: "plugins.allow_sha256[\(index)]", problem: "expected 64 hex digits")
            }
        }
        var keyOwners: [String: String] = [:]
        for (index, tenant) in config.tenants.enumerated() {
            for (keyIndex, hash) in tenant.apiKeySHA256.enumerated() {
                let key = "tenants[\(index)].api_key_sha256[\(keyIndex)]"
                guard isSHA256Hex(hash) else {
                    throw ConfigError(file: file, key: key, problem: "expected 64 hex digits (the output of `mcp-host keys hash`)")
                }
                if let owner = keyOwners.updateValue(tenant.id, forKey: hash.lowercased()) {
                    throw ConfigError(file: file, key: key, problem: "this key hash is already listed for tenant \(owner)")
                }
            }
            if config.auth.mode == "api_key" && tenant.apiKeySHA256.isEmpty {
                throw ConfigError(
                    file: file, key: "tenants[\(index)].api_key_sha256",
                    problem: "expected at least one key hash: auth.mode is api_key and tenant \(tenant.id) would be unreachable")
            }
        }
    }

    static func validateJWT(_ config: HostConfig) throws(ConfigError) {
        let file = config.source, jwt = config.auth.jwt
        guard isHTTPURL(jwt.issuer) else {
            throw ConfigError(file: file, key: "auth.jwt.issuer", problem: "expected the issuer URL (the tokens' iss), got \"\(jwt.issuer)\"")
        }
        guard !jwt.audience.isEmpty else {
            throw ConfigError(
                file: file, key: "auth.jwt.audience",
                problem: "expected the audience tokens must carry (aud, or client_id for Cognito access tokens)")
        }
        switch (jwt.jwksFile, jwt.jwksURL) {
        case (nil, nil), (.some, .some):
            throw ConfigError(file: file, key: "auth.jwt", problem: "expected exactly one of jwks_file and jwks_url")
        case (nil, .some(let url)) where !isHTTPURL(url):
            throw ConfigError(file: file, key: "auth.jwt.jwks_url", problem: "expected an http(s) URL, got \(url)")
        default: break
        }
        guard !jwt.tenantClaim.isEmpty else {
            throw ConfigError(file: file, key: "auth.jwt.tenant_claim", problem: "expected a claim name")
        }
        if let resource = jwt.resource, !isHTTPURL(resource) {
            throw ConfigError(file: file, key: "auth.jwt.resource", problem: "expected an absolute http(s) URL, got \(resource)")
        }
        var owners: [String: String] = [:]
        for (index, tenant) in config.tenants.enumerated() {
            for value in tenant.jwtClaimValues ?? [tenant.id] {
                if let owner = owners.updateValue(tenant.id, forKey: value), owner != tenant.id {
                    throw ConfigError(
                        file: file, key: "tenants[\(index)].jwt_claim_values",
                        problem: "\(jwt.tenantClaim) value \(value) already means tenant \(owner)")
                }
            }
        }
    }

    static func isHTTPURL(_ text: String) -> Bool {
        (text.hasPrefix("https://") || text.hasPrefix("http://")) && text.split(separator: "/").count >= 2
    }

    static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
    }

    static func isHeaderName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x2D || $0 == 0x5F }
    }

    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

extension String {
    var trimmingSpaces: String {
        var slice = self[...]
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return String(slice)
    }
}
