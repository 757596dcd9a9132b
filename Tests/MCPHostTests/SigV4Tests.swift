import XCTest

// The SDK's SigV4 signer, SHA-256 and HMAC-SHA256. The test bundle links MCPPluginSDK; the
// mcp-host executable does not (it depends on no test target), and the test executable exports
// no dynamic symbols, so plugins loaded by these tests still bind to their own SDK copy.
import MCPPluginSDK

final class SigV4Tests: XCTestCase {

    // MARK: primitives

    func testSHA256FIPSVectors() {
        XCTAssertEqual(
            SHA256Digest.hex(SHA256Digest.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(
            SHA256Digest.hex(SHA256Digest.hash(Array("abc".utf8))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256Digest.hex(SHA256Digest.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(
            SHA256Digest.hex(SHA256Digest.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testHMACSHA256RFC4231Vectors() {
        // Test case 1
        XCTAssertEqual(
            SHA256Digest.hex(HMACSHA256.mac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        // Test case 2
        XCTAssertEqual(
            SHA256Digest.hex(HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Test case 6: a key longer than the block size is hashed first
        XCTAssertEqual(
            SHA256Digest.hex(
                HMACSHA256.mac(
                    key: [UInt8](repeating: 0xaa, count: 131),
                    message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testAmzDate() {
        XCTAssertEqual(SigV4Signer.amzDate(unixTime: 1_440_938_160), "20150830T123600Z")
        XCTAssertEqual(SigV4Signer.amzDate(unixTime: 0), "19700101T000000Z")
        XCTAssertEqual(SigV4Signer.amzDate(unixTime: 951_782_400), "20000229T000000Z")
        XCTAssertEqual(SigV4Signer.amzDate(unixTime: 1_700_000_600), "20231114T222320Z")
    }

    func testCredentialsFromEnvironmentAndRedaction() {
        XCTAssertNil(AWSCredentials.fromEnvironment([:]))
        XCTAssertNil(AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": ""]))
        let credentials = AWSCredentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "tok3n",
        ])
        XCTAssertEqual(credentials, AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t", sessionToken: "tok3n"))
        let shown = String(describing: credentials!)
        XCTAssertFalse(shown.contains("s3cr3t"))
        XCTAssertFalse(shown.contains("tok3n"))
    }

    // MARK: AWS Signature Version 4 test suite (aws-sig-v4-test-suite, 2015-08-30 edition)
    //
    // Every case signs with AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region
    // us-east-1, service "service", at 20150830T123600Z. The expected canonical requests, string-to-
    // sign hashes and signatures are AWS's published .creq/.sts/.authz files.

    private let suiteSigner = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    private let suiteTime: Int64 = 1_440_938_160
    private let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    private struct Vector {
        var name: String
        var method = "GET"
        var url: String
        var headers: [(String, String)] = []
        var body = ""
        var sessionToken: String? = nil
        var canonicalRequest: String? = nil
        var stringToSignHash: String? = nil
        var signedHeaders = "host;x-amz-date"
        var signature: String
    }

    private func check(_ vector: Vector, file: StaticString = #filePath, line: UInt = #line) throws {
        var signer = suiteSigner
        signer.credentials.sessionToken = vector.sessionToken
        let headers = HTTPHeaders([("Host", "example.amazonaws.com")] + vector.headers + [("X-Amz-Date", "20150830T123600Z")])
        let result = try signer.signature(
            method: vector.method, url: vector.url, headers: headers, body: Array(vector.body.utf8), unixTime: suiteTime)
        if let creq = vector.canonicalRequest {
            XCTAssertEqual(result.canonicalRequest, creq, "\(vector.name): canonical request", file: file, line: line)
        }
        if let hash = vector.stringToSignHash {
            XCTAssertEqual(
                result.stringToSign, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(hash)",
                "\(vector.name): string to sign", file: file, line: line)
        }
        XCTAssertEqual(
            result.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)",
            "\(vector.name): authorization", file: file, line: line)
    }

    func testGetVanilla() throws {
        try check(
            Vector(
                name: "get-vanilla", url: "https://example.amazonaws.com/",
                canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
                signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))
        // get-vanilla-empty-path / get-relative: the same canonical request.
        try check(Vector(name: "get-vanilla-empty-path", url: "https://example.amazonaws.com",
                         signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))
        try check(Vector(name: "get-relative", url: "https://example.amazonaws.com/example/..",
                         signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))
    }

    func testGetVanillaQueries() throws {
        try check(
            Vector(
                name: "get-vanilla-query-order-key", url: "https://example.amazonaws.com/?Param1=value2&Param1=Value1",
                canonicalRequest:
                    "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                stringToSignHash: "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
                signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"))
        try check(
            Vector(
                name: "get-vanilla-query-order-value", url: "https://example.amazonaws.com/?Param1=value2&Param1=value1",
                stringToSignHash: "c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606",
                signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"))
        try check(
            Vector(
                name: "get-vanilla-query-order-key-case", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1",
                stringToSignHash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
                signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
        try check(
            Vector(
                name: "get-vanilla-empty-query-key", url: "https://example.amazonaws.com/?Param1=value1",
                signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"))
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        try check(
            Vector(
                name: "get-vanilla-query-unreserved", url: "https://example.amazonaws.com/?\(unreserved)=\(unreserved)",
                stringToSignHash: "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
                signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"))
        try check(
            Vector(
                name: "get-vanilla-utf8-query", url: "https://example.amazonaws.com/?%E1%88%B4=bar",
                canonicalRequest:
                    "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
                stringToSignHash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
                signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"))
        try check(
            Vector(
                name: "get-unreserved", url: "https://example.amazonaws.com/\(unreserved)",
                stringToSignHash: "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
                signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"))
    }

    func testHeaderCanonicalization() throws {
        try check(
            Vector(
                name: "get-header-key-duplicate", url: "https://example.amazonaws.com/",
                headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
                canonicalRequest:
                    "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(emptyHash)",
                stringToSignHash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
                signedHeaders: "host;my-header1;x-amz-date",
                signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"))
        try check(
            Vector(
                name: "get-header-value-order", url: "https://example.amazonaws.com/",
                headers: [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")],
                signedHeaders: "host;my-header1;x-amz-date",
                signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"))
        try check(
            Vector(
                name: "get-header-value-trim", url: "https://example.amazonaws.com/",
                headers: [("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")],
                canonicalRequest:
                    "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n\(emptyHash)",
                stringToSignHash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
                signedHeaders: "host;my-header1;my-header2;x-amz-date",
                signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"))
    }

    func testPostVectors() throws {
        try check(
            Vector(
                name: "post-vanilla", method: "POST", url: "https://example.amazonaws.com/",
                stringToSignHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
                signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))
        try check(
            Vector(
                name: "post-vanilla-query", method: "POST", url: "https://example.amazonaws.com/?Param1=value1",
                stringToSignHash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
                signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"))
        try check(
            Vector(
                name: "post-header-key-sort", method: "POST", url: "https://example.amazonaws.com/",
                headers: [("My-Header1", "value1")], signedHeaders: "host;my-header1;x-amz-date",
                signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"))
        try check(
            Vector(
                name: "post-header-value-case", method: "POST", url: "https://example.amazonaws.com/",
                headers: [("My-Header1", "VALUE1")], signedHeaders: "host;my-header1;x-amz-date",
                signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"))
        // The .authz of post-x-www-form-urlencoded signs content-type;host;x-amz-date (its .creq
        // also lists content-length, which the published signature did not cover).
        try check(
            Vector(
                name: "post-x-www-form-urlencoded", method: "POST", url: "https://example.amazonaws.com/",
                headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "Param1=value1",
                stringToSignHash: "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
                signedHeaders: "content-type;host;x-amz-date",
                signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"))
    }

    func testSessionTokenIsSigned() throws {
        let token =
            "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        try check(
            Vector(
                name: "post-sts-header-before", method: "POST", url: "https://example.amazonaws.com/", sessionToken: token,
                stringToSignHash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
                signedHeaders: "host;x-amz-date;x-amz-security-token",
                signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"))
    }

    func testSignAddsHeadersAndUsesTheWireHost() throws {
        let request = HTTPRequest(url: "http://127.0.0.1:9091/workspaces/ws-1/api/v1/query?query=up&time=1700000600")
        let signed = try suiteSigner.sign(request, unixTime: suiteTime)
        XCTAssertEqual(signed.headers["host"], "127.0.0.1:9091")
        XCTAssertEqual(signed.headers["x-amz-date"], "20150830T123600Z")
        XCTAssertNil(signed.headers["x-amz-security-token"])
        let authorization = try XCTUnwrap(signed.headers["authorization"])
        XCTAssertTrue(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="))
        XCTAssertFalse(authorization.contains("wJalrXUtnFEMI"))
        // Default ports are not part of the host header.
        let https = try suiteSigner.signature(method: "GET", url: "https://Example.AmazonAWS.com:443/", unixTime: suiteTime)
        XCTAssertEqual(https.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }
    // S3: the examples of AWS's "Signature Calculations for the Authorization Header: Transferring
    // Payload in a Single Chunk" page (examplebucket, 2013-05-24). S3 keeps the key unnormalized and
    // signs x-amz-content-sha256, which the signer adds.
    func testS3DocumentationExamples() throws {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3")
        let day: Int64 = 1_369_353_600  // 20130524T000000Z
        let getObject = try signer.signature(
            method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt", headers: ["range": "bytes=0-9"], unixTime: day)
        XCTAssertEqual(getObject.signedHeaders, "host;range;x-amz-content-sha256;x-amz-date")
        XCTAssertEqual(getObject.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        XCTAssertTrue(getObject.headersToAdd.contains { $0 == ("x-amz-content-sha256", emptyHash) })
        let listObjects = try signer.signature(
            method: "GET", url: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", unixTime: day)
        XCTAssertEqual(listObjects.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
        let lifecycle = try signer.signature(
            method: "GET", url: "https://examplebucket.s3.amazonaws.com/?lifecycle", unixTime: day)
        XCTAssertEqual(lifecycle.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        // A key is signed as it is: no '..' resolution, no collapsing of '//'.
        let odd = try signer.signature(method: "GET", url: "https://examplebucket.s3.amazonaws.com/a/../b//c%20d", unixTime: day)
        XCTAssertTrue(odd.canonicalRequest.hasPrefix("GET\n/a/../b//c%20d\n"), odd.canonicalRequest)
    }
}
