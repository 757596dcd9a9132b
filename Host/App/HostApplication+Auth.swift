import AsyncHTTPClient
import MCPConfig
import MCPGate
import MCPJSON
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension HostApplication {
    /// `auth.jwt` → the resolver's settings (the configuration was validated already).
    static func bearerSettings(_ config: HostConfig) throws -> BearerSettings {
        let jwt = config.auth.jwt
        var byClaim: [String: String] = [:]
        for tenant in config.tenants {
            for value in tenant.jwtClaimValues ?? [tenant.id] { byClaim[value] = tenant.id }
        }
        return BearerSettings(
            issuer: jwt.issuer, audiences: jwt.audience, requiredScopes: jwt.requiredScopes, tenantClaim: jwt.tenantClaim,
            leewaySeconds: jwt.leewayS, tenantsByClaim: byClaim, resource: jwt.resource,
            authorizationServers: jwt.authorizationServers.isEmpty ? [jwt.issuer] : jwt.authorizationServers,
            resourceName: "MCPHost")
    }

    /// Where the token-signing keys come from. A JWKS file is read (and checked) now, so a wrong
    /// path stops the host at start; a URL is fetched through the host's HTTP client on first use
    /// and refreshed, and an unreachable URL answers 503 rather than stopping the host.
    static func jwksSource(_ config: HostConfig, httpClient: HTTPClient) throws -> JWKSSource {
        let jwt = config.auth.jwt
        let maxAge = Duration.seconds(jwt.jwksCacheS)
        if let path = jwt.jwksFile {
            let text = try readJWKS(path: path, file: config.source)
            return JWKSSource(description: "jwks_file \(path)", maxAge: maxAge) {
                // Re-read on refresh, so a rotated file is picked up without a restart.
                (try? readJWKS(path: path, file: config.source)) ?? text
            }
        }
        let url = jwt.jwksURL ?? ""
        return JWKSSource(description: "jwks_url \(url)", maxAge: maxAge) {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "accept", value: "application/json")
            let response: HTTPClientResponse
            do {
                response = try await httpClient.execute(request, timeout: .seconds(5))
            } catch {
                throw JWKSUnavailable(description: "jwks_url \(url): \(error)")
            }
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw JWKSUnavailable(description: "jwks_url \(url): HTTP \(response.status.code)")
            }
            return String(buffer: body)
        }
    }

    static func readJWKS(path: String, file: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: file, key: "auth.jwt.jwks_file", problem: "cannot read \(path)")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let document = try? JSONValue.parse(Array(data)), document["keys"]?.arrayValue != nil else {
            throw ConfigError(file: file, key: "auth.jwt.jwks_file", problem: "\(path) is not a JWKS document (expected {\"keys\": [...]})")
        }
        return text
    }
}
