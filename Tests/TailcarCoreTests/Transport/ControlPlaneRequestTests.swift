// Tests of the control-plane requests `tailcar bootstrap` sends: headers, body and wire bytes, the
// signature recomputed through SLSSigner and compared with golden values from aliyun-log-python-sdk
// (aliyun.log.auth.AuthV1.sign_request with _getGMT pinned to the same Date); JSON bodies; reading a
// ListAppliedConfigs answer.
import Testing
@testable import TailcarCore

@Suite("Control-plane requests")
struct ControlPlaneRequestTests {
    let credentials = Credentials(accessKeyID: "mockAccessKeyID", accessKeySecret: "mockAccessKeySecret")
    /// Fri, 27 Nov 2026 01:50:00 GMT
    let epoch = 1_795_744_200

    @Test("CreateLogStore carries the SDK's headers, a JSON body and the SDK's signature")
    func createLogstore() {
        let request = ControlPlaneRequest(.createLogstore(name: "nginx-error", ttlDays: 90, shardCount: 2),
                                          project: "demo", authority: "cn-hangzhou.log.aliyuncs.com",
                                          credentials: credentials, epochSeconds: epoch)
        let body = #"{"logstoreName":"nginx-error","ttl":90,"shardCount":2}"#
        #expect(request.method == "POST" && request.path == "/logstores")
        #expect(request.body == Array(body.utf8))
        #expect(request.headers.map(\.name) == ["Host", "Content-Type", "Content-Length", "Date", "x-log-apiversion",
                                                "x-log-bodyrawsize", "Content-MD5", "x-log-signaturemethod",
                                                "Authorization", "x-log-date"])
        #expect(request.header("Host") == "demo.cn-hangzhou.log.aliyuncs.com")
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("Content-Length") == String(body.utf8.count))
        #expect(request.header("x-log-bodyrawsize") == String(body.utf8.count))
        #expect(request.header("Date") == "Fri, 27 Nov 2026 01:50:00 GMT")
        #expect(request.header("x-log-date") == request.header("Date"))
        #expect(request.header("Content-MD5") == "56317D78407519DA8AE4328D23697CF6")
        // Recomputed from the headers sent (x-log-date is added after signing, as the SDK does).
        let signed = request.headers.filter { $0.name != "Authorization" && $0.name != "x-log-date" }
        let text = SLSSigner.stringToSign(method: "POST", contentMD5: request.header("Content-MD5")!,
                                          contentType: "application/json", date: request.header("Date")!,
                                          headers: signed, path: "/logstores", query: [])
        #expect(text.hasPrefix("POST\n56317D78407519DA8AE4328D23697CF6\napplication/json\n"))
        #expect(request.header("Authorization") == SLSSigner.authorization(credentials: credentials, stringToSign: text))
        #expect(request.header("Authorization") == "LOG mockAccessKeyID:6mn4bh7sBfcXgXd2ZkcvNJrHsKc=")
        let wire = String(decoding: request.wireBytes, as: UTF8.self)
        #expect(wire.hasPrefix("POST /logstores HTTP/1.1\r\nHost: demo.cn-hangzhou.log.aliyuncs.com\r\n"))
        #expect(wire.hasSuffix("\r\n\r\n" + body))
    }

    @Test("ApplyConfigToMachineGroup is a PUT with no body, no Content-Type and no Content-MD5 (SDK golden)")
    func applyConfig() {
        let request = ControlPlaneRequest(.applyConfig(config: "nginx-log-error-example", machineGroup: "nginx-log-sidecar"),
                                          project: "demo", authority: "cn-hangzhou.log.aliyuncs.com",
                                          credentials: credentials, epochSeconds: epoch)
        #expect(request.method == "PUT")
        #expect(request.path == "/machinegroups/nginx-log-sidecar/configs/nginx-log-error-example")
        #expect(request.body.isEmpty)
        #expect(request.header("Content-Type") == nil && request.header("Content-MD5") == nil)
        #expect(request.header("Content-Length") == "0" && request.header("x-log-bodyrawsize") == "0")
        #expect(request.header("Authorization") == "LOG mockAccessKeyID:dVD+WzrSc4fMn/lV0MUN8v4N8AU=")
    }

    @Test("an STS token is sent and signed as x-acs-security-token")
    func securityToken() {
        var sts = credentials
        sts.securityToken = "sts-token-xyz"
        let request = ControlPlaneRequest(.listAppliedConfigs(machineGroup: "g"), project: "demo", authority: "h:8080",
                                          credentials: sts, epochSeconds: epoch)
        #expect(request.method == "GET" && request.header("x-acs-security-token") == "sts-token-xyz")
        #expect(request.header("Host") == "demo.h:8080")
        let signed = request.headers.filter { $0.name != "Authorization" && $0.name != "x-log-date" }
        let text = SLSSigner.stringToSign(method: "GET", contentMD5: "", contentType: "", date: request.header("Date")!,
                                          headers: signed, path: "/machinegroups/g/configs", query: [])
        #expect(text.contains("x-acs-security-token:sts-token-xyz\n"))
        #expect(request.header("Authorization") == SLSSigner.authorization(credentials: sts, stringToSign: text))
    }

    @Test("the other calls send the bodies the SDK's helpers send")
    func bodies() {
        #expect(ControlPlaneCall.createProject(name: "demo", description: "d").body?.text
            == #"{"projectName":"demo","description":"d"}"#)
        #expect(ControlPlaneCall.createMachineGroup(name: "g", machineList: ["g"]).body?.text
            == #"{"groupName":"g","groupType":"","groupAttribute":{},"machineIdentifyType":"userdefined","machineList":["g"]}"#)
        let index = ControlPlaneCall.createIndex(logstore: "s")
        #expect(index.path == "/logstores/s/index")
        #expect(index.body?.text.hasPrefix(#"{"line":{"token":[","," ","'","\"",";","#) == true)
        #expect(index.body?.text.hasSuffix(#""\n","\t","\r"],"caseSensitive":false,"chn":false}}"#) == true)
    }

    @Test("JSON strings escape quotes, backslashes and control bytes; numbers stay numbers only when they are")
    func json() {
        #expect(JSONValue.string("a\"b\\c\n\u{01}é").text == #""a\"b\\c\n\u0001é""#)
        for literal in ["0", "-12", "0.5", "1e3", "2.5E-3"] { #expect(JSONValue.number(literal: literal) == .number(literal)) }
        for text in ["007", ".5", "1.", "inf", "0x1F", "-", "1e", ""] { #expect(JSONValue.number(literal: text) == nil) }
    }

    @Test("the configs of a ListAppliedConfigs answer are read, escapes included")
    func appliedConfigs() {
        let body = Array(#"{"count":3,"configs":["a","b\"c","nginx-log-error-example"]}"#.utf8)
        #expect(Bootstrapper.configNames(in: body) == ["a", "b\"c", "nginx-log-error-example"])
        #expect(Bootstrapper.configNames(in: Array(#"{"count":0,"configs":[]}"#.utf8)).isEmpty)
        #expect(Bootstrapper.configNames(in: Array("not json".utf8)).isEmpty)
    }
}
