// Tests of SLSSigner and PutLogsRequest against golden values computed with aliyun-log-python-sdk 0.9.52
// (aliyun.log.auth.AuthV1.sign_request with _getGMT pinned), and of Credentials redaction.
import Testing
@testable import TailcarCore

@Suite("SLSSigner")
struct SLSSignerTests {
    let credentials = Credentials(accessKeyID: "mockAccessKeyID", accessKeySecret: "mockAccessKeySecret")

    @Test("vector 1 of the Go SDK's signature test: GET /logstores")
    func goSDKVector() {
        let text = SLSSigner.stringToSign(method: "GET", contentMD5: "", contentType: "",
                                          date: "Mon, 3 Jan 2010 08:33:47 GMT",
                                          headers: [("x-log-apiversion", "0.6.0"), ("x-log-bodyrawsize", "0"),
                                                    ("x-log-signaturemethod", "hmac-sha1")],
                                          path: "/logstores", query: [])
        #expect(SLSSigner.authorization(credentials: credentials, stringToSign: text)
            == "LOG mockAccessKeyID:Rwm6cTKzoti4HWoe+GKcb6Kv07E=")
    }

    @Test("query parameters are sorted by key and not URL-encoded (SDK golden)")
    func sortedQuery() {
        // AuthV1.sign_request('GET', '/logstores', {'offset': '0', 'logstoreName': 'a b', 'size': '10'},
        //   {'x-log-apiversion': '0.6.0', 'x-log-bodyrawsize': '0'}, b'') with Date "Mon, 3 Jan 2010 08:33:47 GMT"
        let text = SLSSigner.stringToSign(method: "GET", contentMD5: "", contentType: "",
                                          date: "Mon, 3 Jan 2010 08:33:47 GMT",
                                          headers: [("X-Log-BodyRawSize", "0"), ("x-log-apiversion", "0.6.0"),
                                                    ("x-log-signaturemethod", "hmac-sha1"), ("x-log-meta-a", "no")],
                                          path: "/logstores",
                                          query: [("offset", "0"), ("logstoreName", "a b"), ("size", "10")])
        #expect(text.hasSuffix("/logstores?logstoreName=a b&offset=0&size=10"))
        #expect(SLSSigner.authorization(credentials: credentials, stringToSign: text)
            == "LOG mockAccessKeyID:wYrWAPUjT5TC3/Qdx6rRsVPFbl8=")
    }

    @Test("a PutLogs request carries the SDK's headers and signature, with and without an STS token")
    func putLogsGolden() {
        // Body bytes 0...39, x-log-bodyrawsize 123, lz4, Date of epoch 1795744200.
        let body = (0..<40).map { UInt8($0) }
        for (token, signature) in [(nil, "mZkW9yp/buFKJBeN6Z0SKPJLABw="), ("sts-token-xyz", "0ckvIPzchBuAP4SFwaap1IqxMQc=")] {
            var creds = credentials
            creds.securityToken = token
            let request = body.withUnsafeBytes {
                PutLogsRequest(project: "proj", endpoint: "cn-hangzhou.log.aliyuncs.com", logstore: "app",
                               credentials: creds, body: $0, rawSize: 123, compression: .lz4,
                               epochSeconds: 1_795_744_200)
            }
            #expect(request.path == "/logstores/app/shards/lb")
            #expect(request.header("host") == "proj.cn-hangzhou.log.aliyuncs.com")
            #expect(request.header("Content-MD5") == "30DD5E4CAE35BA892CC66D7736723980")
            #expect(request.header("Date") == "Fri, 27 Nov 2026 01:50:00 GMT")
            #expect(request.header("x-log-date") == "Fri, 27 Nov 2026 01:50:00 GMT")
            #expect(request.header("x-log-compresstype") == "lz4")
            #expect(request.header("x-log-bodyrawsize") == "123")
            #expect(request.header("Content-Length") == "40")
            #expect(request.header("x-acs-security-token") == token)
            #expect(request.header("Authorization") == "LOG mockAccessKeyID:\(signature)")
        }
    }

    @Test("dates are RFC 1123 in GMT with two-digit days")
    func dates() {
        #expect(SLSSigner.httpDate(epochSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(SLSSigner.httpDate(epochSeconds: 1_795_744_200) == "Fri, 27 Nov 2026 01:50:00 GMT")
        #expect(SLSSigner.httpDate(epochSeconds: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }

    @Test("base64 and MD5 match RFC 4648 and RFC 1321 vectors")
    func base64AndMD5() {
        let cases = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
                     "foobar": "Zm9vYmFy"]
        for (plain, encoded) in cases { #expect(Base64.encode(Array(plain.utf8)) == encoded) }
        #expect(Base64.encode([0xFF, 0xFE, 0xFD]) == "//79")
        #expect([UInt8]().withUnsafeBytes { SLSSigner.contentMD5($0) } == "D41D8CD98F00B204E9800998ECF8427E")
        #expect(Array("abc".utf8).withUnsafeBytes { SLSSigner.contentMD5($0) } == "900150983CD24FB0D6963F7D28E17F72")
    }

    @Test("credentials never show the secret or the token when printed")
    func redaction() {
        let creds = Credentials(accessKeyID: "AKID", accessKeySecret: "TOPSECRET", securityToken: "TOKENVALUE")
        var dumped = ""
        dump(creds, to: &dumped)
        for text in [creds.description, creds.debugDescription, "\(creds)", String(reflecting: creds), dumped] {
            #expect(!text.contains("TOPSECRET") && !text.contains("TOKENVALUE"))
            #expect(text.contains("AKID"))
        }
    }
}
