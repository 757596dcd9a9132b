import MCPPluginSDK
import S3DeltaFormats

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An `ObjectStore` over one S3 bucket + prefix: ListObjectsV2 (paged by continuation token),
/// HeadObject and ranged GetObject, signed with SigV4 (service `s3`) and sent through the host's
/// HTTP service, so the tenant's egress allow-list, timeouts and size caps apply.
///
/// Keys handed to this store are relative to the source's prefix; the prefix is added here and
/// removed from listings, so a tool can never name an object outside it.
struct S3Store: ListingStore {
    let addressing: S3Addressing
    /// "" or a folder ending in "/".
    let prefix: String
    let signer: SigV4Signer
    let host: PluginHost
    let sourceName: String
    let timeoutMilliseconds: Int
    let pageSize: Int

    /// Whole-object reads larger than this fail (the host's own cap is 64 MiB); formats read big
    /// objects in ranges.
    static let maxWholeObjectBytes = 64 << 20

    init(
        configuration c: SourceConfiguration.S3, sourceName: String, host: PluginHost, settings: Settings,
        environment: [String: String]
    ) throws {
        addressing = try S3Addressing(bucket: c.bucket, region: c.region, endpoint: c.endpoint, style: c.addressing)
        var prefix = c.prefix ?? ""
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        if prefix.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) {
            throw ToolError("sources '\(sourceName)': s3.prefix must not contain '.' or '..' segments")
        }
        self.prefix = prefix
        self.host = host
        self.sourceName = sourceName
        timeoutMilliseconds = settings.requestTimeoutMilliseconds
        pageSize = c.list_page_size ?? 1000
        signer = SigV4Signer(
            credentials: try Self.credentials(c, sourceName: sourceName, environment: environment), region: c.region, service: "s3")
    }

    /// Credentials from the variables the source names, else the standard AWS variables. The
    /// error names variables, never values.
    private static func credentials(_ c: SourceConfiguration.S3, sourceName: String, environment: [String: String]) throws
        -> AWSCredentials
    {
        func value(_ variable: String, _ key: String) throws -> String {
            guard let value = environment[variable], !value.isEmpty else {
                throw ToolError("sources '\(sourceName)': s3.\(key): environment variable \(variable) is not set")
            }
            return value
        }
        switch (c.access_key_id_env, c.secret_access_key_env) {
        case (let keyVariable?, let secretVariable?):
            let token = try c.session_token_env.map { try value($0, "session_token_env") }
            return AWSCredentials(
                accessKeyID: try value(keyVariable, "access_key_id_env"), secretAccessKey: try value(secretVariable, "secret_access_key_env"),
                sessionToken: token)
        case (nil, nil):
            guard c.session_token_env == nil else {
                throw ToolError("sources '\(sourceName)': s3.session_token_env needs access_key_id_env and secret_access_key_env")
            }
            guard let credentials = AWSCredentials.fromEnvironment(environment) else {
                throw ToolError(
                    "sources '\(sourceName)': S3 needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) in the host's environment, or name variables with s3.access_key_id_env / s3.secret_access_key_env"
                )
            }
            return credentials
        default:
            throw ToolError("sources '\(sourceName)': give both s3.access_key_id_env and s3.secret_access_key_env, or neither")
        }
    }

    // MARK: - ObjectStore

    func list(prefix: String) async throws -> [ObjectInfo] {
        var all: [ObjectInfo] = []
        var token: String?
        repeat {
            let page = try await listRequest(prefix: prefix, continuationToken: token, startAfter: nil, maxKeys: pageSize)
            all += page.objects
            token = page.nextToken
            try Task.checkCancellation()
        } while token != nil
        return all
    }

    func listPage(prefix: String, after: String?, limit: Int) async throws -> (objects: [ObjectInfo], more: Bool) {
        var found: [ObjectInfo] = []
        var token: String?
        repeat {
            let page = try await listRequest(
                prefix: prefix, continuationToken: token, startAfter: token == nil ? after : nil, maxKeys: min(pageSize, limit - found.count))
            found += page.objects
            token = page.nextToken
        } while token != nil && found.count < limit
        return (found, token != nil)
    }

    func head(_ key: String) async throws -> ObjectInfo {
        let response = try await send("HEAD", addressing.objectURL(key: prefix + key), what: "HeadObject '\(key)'")
        guard response.status == 200 else {
            if response.status == 403 || response.status == 404 {
                // A HEAD error has no body, so S3's reason (bad signature, unknown key id, access
                // denied; no such key or no such bucket) is unknown: ask again with a one-byte
                // GET, whose error has one.
                let probe = try await send(
                    "GET", addressing.objectURL(key: prefix + key), headers: [("range", "bytes=0-0")], what: "GetObject '\(key)'")
                if !(200..<300).contains(probe.status) { throw failure(probe, key: key, operation: "GetObject") }
            }
            throw failure(response, key: key, operation: "HeadObject")
        }
        let size = response.headers["content-length"].flatMap { Int($0) }
        guard let size else { throw ObjectStoreError.failed("S3 HeadObject '\(key)' answered without Content-Length") }
        return ObjectInfo(
            key: key, size: size, lastModifiedMilliseconds: response.headers["last-modified"].flatMap(S3Dates.httpDateMilliseconds),
            etag: response.headers["etag"])
    }

    func read(_ key: String, range: Range<Int>) async throws -> [UInt8] {
        let lower = max(0, range.lowerBound)
        guard range.upperBound > lower else { return [] }
        let open = range.upperBound == Int.max
        let header = open ? "bytes=\(lower)-" : "bytes=\(lower)-\(range.upperBound - 1)"
        let wanted = open ? Self.maxWholeObjectBytes : range.upperBound - lower
        let response = try await send(
            "GET", addressing.objectURL(key: prefix + key), headers: [("range", header)], what: "GetObject '\(key)'",
            maxResponseBytes: min(wanted, Self.maxWholeObjectBytes))
        switch response.status {
        case 206:
            // An open range ("from here to the end") larger than the cap fails in the host
            // (maxResponseBytes) rather than coming back cut short.
            return [UInt8](response.body.prefix(wanted))
        case 200:
            // A server that ignores Range sends the whole object.
            let body = [UInt8](response.body)
            guard lower < body.count else { return [] }
            return Array(body[lower..<min(body.count, lower + wanted)])
        case 416:
            return []  // the range starts at or past the end
        default:
            throw failure(response, key: key, operation: "GetObject")
        }
    }

    func read(_ key: String) async throws -> [UInt8] {
        let response = try await send(
            "GET", addressing.objectURL(key: prefix + key), what: "GetObject '\(key)'", maxResponseBytes: Self.maxWholeObjectBytes)
        guard response.status == 200 else { throw failure(response, key: key, operation: "GetObject") }
        return [UInt8](response.body)
    }

    // MARK: - requests

    struct ListPage {
        var objects: [ObjectInfo]
        var nextToken: String?
    }

    private func listRequest(prefix keyPrefix: String, continuationToken: String?, startAfter: String?, maxKeys: Int) async throws
        -> ListPage
    {
        var parameters = [("list-type", "2"), ("max-keys", String(max(1, maxKeys))), ("prefix", prefix + keyPrefix)]
        if let continuationToken { parameters.append(("continuation-token", continuationToken)) }
        if let startAfter { parameters.append(("start-after", prefix + startAfter)) }
        // Sorted by name: the canonical query SigV4 signs is sorted anyway; keep the wire the same.
        parameters.sort { $0.0 < $1.0 }
        let response = try await send(
            "GET", addressing.bucketURL(query: S3Addressing.query(parameters)), what: "ListObjectsV2 '\(keyPrefix)'")
        guard response.status == 200 else { throw failure(response, key: nil, operation: "ListObjectsV2") }
        let document: S3XMLElement
        do { document = try S3XMLElement.parse([UInt8](response.body)) } catch {
            throw ObjectStoreError.failed("S3 ListObjectsV2 answered with XML this plugin cannot read: \(error)")
        }
        guard document.name == "ListBucketResult" else {
            throw ObjectStoreError.failed("S3 ListObjectsV2 answered <\(document.name)> instead of <ListBucketResult>")
        }
        var objects: [ObjectInfo] = []
        for item in document.children("Contents") {
            guard let fullKey = item["Key"], fullKey.hasPrefix(prefix), let size = item["Size"].flatMap({ Int($0) }) else { continue }
            let key = String(fullKey.dropFirst(prefix.count))
            // "folder" placeholder objects (`a/`) are not files.
            if key.isEmpty || key.hasSuffix("/") { continue }
            objects.append(
                ObjectInfo(
                    key: key, size: size, lastModifiedMilliseconds: item["LastModified"].flatMap(S3Dates.iso8601Milliseconds),
                    etag: item["ETag"]))
        }
        let truncated = document["IsTruncated"] == "true"
        let next = truncated ? document["NextContinuationToken"] : nil
        if truncated && next == nil {
            throw ObjectStoreError.failed("S3 ListObjectsV2 said IsTruncated without a NextContinuationToken")
        }
        return ListPage(objects: objects, nextToken: next)
    }

    /// Signs and sends one request. No response at all → `failed` naming the endpoint (never the
    /// URL's query or any header).
    private func send(
        _ method: String, _ url: String, headers: [(String, String)] = [], what: String, maxResponseBytes: Int = 16 << 20
    ) async throws -> HTTPResponse {
        var timeout = Duration.milliseconds(timeoutMilliseconds)
        if let deadline = CallSettings.current?.deadlineUnixMilliseconds {
            // Leave a little of the call's deadline to report the failure ourselves.
            let remaining = deadline - host.nowUnixMilliseconds() - 250
            guard remaining > 0 else {
                throw ObjectStoreError.failed("S3 \(what) not sent: the tool call's deadline has passed")
            }
            timeout = min(timeout, .milliseconds(remaining))
        }
        var request = HTTPRequest(method: method, url: url, headers: HTTPHeaders(headers), timeout: timeout, maxResponseBytes: maxResponseBytes)
        request = try signer.sign(request, unixTime: host.nowUnixMilliseconds() / 1000)
        do {
            return try await host.http(request)
        } catch let error as HostHTTPError {
            host.log(.warning, "source \(sourceName): S3 \(what) failed: \(error.message)")
            throw ObjectStoreError.failed("S3 endpoint \(addressing.endpoint) did not answer \(what): \(error.message)")
        }
    }

    /// S3's error answer as a store error, with S3's own code and message.
    func failure(_ response: HTTPResponse, key: String?, operation: String) -> ObjectStoreError {
        let document = try? S3XMLElement.parse([UInt8](response.body))
        let code = document?["Code"]
        let message = document?["Message"]
        let detail = [code, message].compactMap { $0 }.joined(separator: ": ")
        let suffix = detail.isEmpty ? "HTTP \(response.status)" : "HTTP \(response.status) \(detail)"
        let object = key.map { "'\($0)' in " } ?? ""
        let location = "\(object)s3://\(addressing.bucket)/\(prefix)"
        host.log(.notice, "source \(sourceName): S3 \(operation) answered HTTP \(response.status)\(code.map { " \($0)" } ?? "")")
        switch (response.status, code) {
        case (_, "SignatureDoesNotMatch"):
            return .denied("S3 rejected the request signature (check the secret key) [\(operation), \(suffix)]")
        case (_, "InvalidAccessKeyId"):
            return .denied("S3 does not know the access key id (check the configured credentials) [\(operation), \(suffix)]")
        case (_, "NoSuchBucket"):
            return .notFound("not found: bucket '\(addressing.bucket)' does not exist [\(operation), \(suffix)]")
        case (_, "NoSuchKey"), (404, nil):
            return .notFound("not found: \(location) [\(operation), \(suffix)]")
        case (_, "AccessDenied"), (403, _):
            return .denied("S3 denied access to \(location) [\(operation), \(suffix)]")
        default:
            return .failed("S3 \(operation) on \(location) failed [\(suffix)]")
        }
    }
}
