// EndpointAndCredentialTests.swift
//
// The flusher_sls configuration surfaces that are pure values: endpoint text, credential sources (the
// environment, JSON and INI files re-read on change), back-off timing and batch halving.

import Glibc
import Testing
@testable import TailcarCore

@Suite("SLS endpoint, credentials and delivery policy")
struct EndpointAndCredentialTests {
    @Test("endpoint texts parse to scheme, host and port", arguments: [
        ("cn-hangzhou.log.aliyuncs.com", "https", "cn-hangzhou.log.aliyuncs.com", 443),
        ("http://cn-hangzhou-intranet.log.aliyuncs.com/", "http", "cn-hangzhou-intranet.log.aliyuncs.com", 80),
        ("http://127.0.0.1:8080", "http", "127.0.0.1", 8080),
        ("HTTPS://[::1]:8443", "https", "::1", 8443),
        ("  example.com:9000 ", "https", "example.com", 9000),
    ])
    func endpoints(text: String, scheme: String, host: String, port: Int) throws {
        let endpoint = try HTTPEndpoint(parsing: text)
        #expect(endpoint.scheme.rawValue == scheme && endpoint.host == host && endpoint.port == port)
    }

    @Test("bad endpoint texts say what is wrong", arguments: [
        ("", "is empty"), ("ftp://x", "scheme \"ftp\""), ("http://x/path", "path"), ("x:0", "port \"0\""),
        ("x:http", "port \"http\""), ("[::1", "unclosed ["), ("http://:80", "no host"),
    ])
    func badEndpoints(text: String, problem: String) {
        #expect {
            _ = try HTTPEndpoint(parsing: text)
        } throws: { error in
            (error as? EndpointError)?.description.contains(problem) == true
        }
    }

    @Test("the Host header form omits the scheme's default port; IP literals are recognised")
    func authority() throws {
        #expect(try HTTPEndpoint(parsing: "https://a.b:443").authority == "a.b")
        #expect(try HTTPEndpoint(parsing: "http://a.b:8080").authority == "a.b:8080")
        #expect(try HTTPEndpoint(parsing: "http://[::1]:8080").authority == "[::1]:8080")
        #expect(try HTTPEndpoint(parsing: "http://10.1.2.3").hostIsIPLiteral)
        #expect(try !HTTPEndpoint(parsing: "http://10.1.2").hostIsIPLiteral)
        #expect(try !HTTPEndpoint(parsing: "log.aliyuncs.com").hostIsIPLiteral)
    }

    @Test("the environment gives a key pair with an optional token, a file, nothing, or an error for half a pair")
    func environment() throws {
        func source(_ values: [String: String]) throws(CredentialError) -> CredentialSource? {
            try CredentialSource.fromEnvironment { values[$0] }
        }
        let pair = try source(["ALIBABA_CLOUD_ACCESS_KEY_ID": "id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s3cret",
                               "ALIBABA_CLOUD_SECURITY_TOKEN": "tok"])
        let credentials = try pair?.current()
        #expect(credentials?.accessKeyID == "id" && credentials?.securityToken == "tok")
        #expect(!"\(pair!) \(credentials!)".contains("s3cret") && !"\(credentials!)".contains("tok,"))
        guard case .file(let path) = try source(["ALIBABA_CLOUD_CREDENTIALS_FILE": "/c.json"])?.origin else {
            Issue.record("expected a file source")
            return
        }
        #expect(path == "/c.json")
        #expect(try source([:]) == nil)
        #expect(throws: CredentialError.self) { try source(["ALIBABA_CLOUD_ACCESS_KEY_ID": "id"]) }
    }

    @Test("JSON (flat or AssumeRole's nesting) and INI files parse; missing fields are named")
    func fileFormats() throws {
        let flat = try CredentialSource.parse(Array(#"{"AccessKeyId":"a","AccessKeySecret":"b"}"#.utf8), source: "t")
        #expect(flat.accessKeyID == "a" && flat.accessKeySecret == "b" && flat.securityToken == nil)
        let nested = try CredentialSource.parse(Array(#"{"RequestId":"r","Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"t","Expiration":"x"}}"#.utf8), source: "t")
        #expect(nested.securityToken == "t")
        let ini = "# profiles\n[other]\nregion = x\n[default]\ntype = sts\naccess_key_id = ida\naccess_key_secret = \"sec\"\nsecurity_token = tk\n"
        let parsed = try CredentialSource.parse(Array(ini.utf8), source: "t")
        #expect(parsed.accessKeyID == "ida" && parsed.accessKeySecret == "sec" && parsed.securityToken == "tk")
        #expect {
            _ = try CredentialSource.parse(Array(#"{"AccessKeyId":"a"}"#.utf8), source: "file /x")
        } throws: { error in
            "\(error)" == "credentials from file /x: no AccessKeySecret (JSON) or access_key_secret (INI) found"
        }
    }

    @Test("a credentials file is re-read when it is replaced, and a missing file is an error naming it")
    func reread() throws {
        let directory = "/tmp/tailcar-credentials-\(getpid())"
        mkdir(directory, 0o700)
        defer { unlink(directory + "/c.json"); rmdir(directory) }
        let path = directory + "/c.json"
        let source = CredentialSource(.file(path: path))
        #expect { _ = try source.current() } throws: { "\($0)".contains(path) }
        try writeFile(path, #"{"AccessKeyId":"one","AccessKeySecret":"x"}"#)
        #expect(try source.current().accessKeyID == "one")
        try writeFile(path + ".new", #"{"AccessKeyId":"two","AccessKeySecret":"longer secret"}"#)
        rename(path + ".new", path)
        #expect(try source.current().accessKeyID == "two")
    }

    func writeFile(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw SystemError(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress!, $0.count - 1) }
    }

    @Test("back-off doubles from its base within half-step jitter, caps, and keeps operator errors slow")
    func backoff() {
        let policy = SLSDeliveryPolicy()
        for random: UInt64 in [0, 7, 1 << 40, .max] {
            let first = policy.backoff(failures: 1, operatorError: false, random: random)
            #expect((100...200).contains(first))
            let fifth = policy.backoff(failures: 5, operatorError: false, random: random)
            #expect((1600...3200).contains(fifth))
            #expect((15_000...30_000).contains(policy.backoff(failures: 40, operatorError: false, random: random)))
            let slow = policy.backoff(failures: 1, operatorError: true, random: random)
            #expect(slow == 10_000)
            #expect((30_000...60_000).contains(policy.backoff(failures: 9, operatorError: true, random: random)))
        }
    }

    @Test("a batch halves by log count, cutting inside a group when it must")
    func halves() {
        let keys = KeyTable()
        func group(_ count: Int) -> EventGroup {
            let g = EventGroup(keys: keys)
            for index in 0..<count {
                let raw = Array("line \(index)".utf8)
                raw.withUnsafeBytes { _ = g.beginRecord(raw: $0, seconds: 1, nanoseconds: 0) }
                g.commitRecord()
            }
            return g
        }
        let a = group(3), b = group(4)
        let batch = SealedBatch(slices: [RecordSlice(group: a, records: 0..<3), RecordSlice(group: b, records: 0..<4)],
                                meta: LogGroupMeta(topic: "", source: ""), logs: 7)
        guard let (first, second) = batch.halves() else {
            Issue.record("no halves")
            return
        }
        #expect(first.map(\.records) == [0..<3] && second.map(\.records) == [0..<4])
        let uneven = SealedBatch(slices: [RecordSlice(group: b, records: 0..<4), RecordSlice(group: a, records: 0..<3)],
                                 meta: LogGroupMeta(topic: "", source: ""), logs: 7)
        let (left, right) = uneven.halves()!
        #expect(left.map(\.records) == [0..<3] && right.map(\.records) == [3..<4, 0..<3])
        #expect(SealedBatch(slices: [RecordSlice(group: a, records: 0..<1)], meta: LogGroupMeta(topic: "", source: ""),
                            logs: 1).halves() == nil)
    }
}
