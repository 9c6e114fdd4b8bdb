// Tests of LogConfigObject: an AliyunLogConfig as the API serves it (server-set metadata, status, vendor
// fields the controller does not act on) becomes the bootstrap plan `tailcar bootstrap` would make, with the
// controller's defaults filled in; an invalid spec names the field.
import Testing
@testable import TailcarCore

@Suite("AliyunLogConfig objects")
struct LogConfigResourceTests {
    func object(_ spec: String) throws -> LogConfigObject {
        let json = #"{"apiVersion":"log.alibabacloud.com/v1alpha1","kind":"AliyunLogConfig","metadata":{"name":"web","#
            + #""namespace":"team","uid":"u-1","generation":3,"resourceVersion":"812","creationTimestamp":"2026-01-01T00:00:00Z","#
            + #""ownerReferences":[],"deletionGracePeriodSeconds":0},"spec":"# + spec + #","status":{"status":"OK"}}"#
        let value = try #require(try YAMLReader.documents(Array(json.utf8), file: "event").first)
        return try #require(LogConfigObject(value))
    }

    let logtail = #""logtailConfig":{"inputType":"file","configName":"web","inputDetail":{"logType":"common_reg_log","logPath":"/var/log/web","filePattern":"*.log"}}"#

    @Test("identity, generation and the plan with the controller's defaults")
    func defaults() throws {
        let resource = try object(#"{"logstore":"web","configTags":{"a":"b"},"logstoreAutoSplit":true,"# + logtail + "}")
        #expect(resource.key == ResourceKey(namespace: "team", name: "web"))
        #expect(resource.uid == "u-1" && resource.generation == 3 && resource.resourceVersion == "812")
        let pipeline = try resource.pipeline(ControllerDefaults(project: "k8s-p", machineGroup: "k8s-group-c1",
                                                                endpoint: "http://127.0.0.1:9")).get()
        let plan = try #require(pipeline.bootstrap)
        #expect(plan.project == "k8s-p" && plan.logstore == "web" && plan.machineGroups == ["k8s-group-c1"])
        #expect(plan.lifeCycleDays == 90 && plan.shardCount == 2 && plan.configName == "web")
        #expect(plan.logtailConfig.member("outputDetail")?.text == #"{"projectName":"k8s-p","logstoreName":"web"}"#)
        guard case .sls(let sls) = pipeline.flushers.first else { Issue.record("no SLS flusher"); return }
        #expect(sls.endpoint == "http://127.0.0.1:9")
    }

    @Test("the spec's own project and groups win over the defaults")
    func specWins() throws {
        let resource = try object(#"{"project":"mine","logstore":"web","machineGroups":["g"],"lifeCycle":30,"# + logtail + "}")
        let plan = try #require(try resource.pipeline(ControllerDefaults(project: "k8s-p", machineGroup: "d")).get().bootstrap)
        #expect(plan.project == "mine" && plan.machineGroups == ["g"] && plan.lifeCycleDays == 30)
    }

    @Test("the vendor's logstore settings: defaults, the spec's values, at most 10 shards")
    func logstoreSettings() throws {
        let plain = try object(#"{"project":"p","logstore":"web","machineGroups":["g"],"# + logtail + "}")
        #expect(plain.logstoreSettings == [JSONMember("autoSplit", .bool(true)), JSONMember("maxSplitShard", .int(32)),
                                           JSONMember("mode", .string("standard"))])
        let tuned = try object(#"{"project":"p","logstore":"web","machineGroups":["g"],"shardCount":64,"#
                               + #""logstoreMode":"query","logstoreHotTTL":0,"logstoreAppendMeta":true,"# + logtail + "}")
        #expect(tuned.logstoreSettings == [JSONMember("autoSplit", .bool(true)), JSONMember("maxSplitShard", .int(32)),
                                           JSONMember("mode", .string("query")), JSONMember("appendMeta", .bool(true))])
        #expect(try tuned.pipeline(ControllerDefaults()).get().bootstrap?.shardCount == 10)
    }

    @Test("an invalid spec says which field")
    func invalid() throws {
        let resource = try object(#"{"project":"p","machineGroups":["g"],"# + logtail + "}")
        guard case .failure(let problem) = resource.pipeline(ControllerDefaults()) else {
            Issue.record("accepted a spec without logstore")
            return
        }
        #expect(problem.description.contains("spec.logstore"))
    }
}

@Suite("The controller's SLS calls")
struct ControllerCallTests {
    @Test("the vendor's default Kubernetes index: its 27 tokens on the line and 15 pod-tag text keys")
    func kubernetesIndex() throws {
        let body = try #require(ControlPlaneCall.createKubernetesIndex(logstore: "s", docValue: false).body)
        #expect(ControlPlaneCall.createKubernetesIndex(logstore: "s", docValue: false).path == "/logstores/s/index")
        guard case .array(let tokens)? = body.member("line")?.member("token"),
              case .object(let keys)? = body.member("keys") else { Issue.record("no line tokens or keys"); return }
        #expect(tokens.count == 27 && tokens.contains(.string("\\")) && tokens.first == .string(" "))
        #expect(keys.map(\.key) == ControlPlaneCall.kubernetesIndexKeys && keys.count == 15)
        #expect(keys[0].value.member("doc_value") == .bool(false) && keys[0].value.member("type") == .string("text"))
    }

    @Test("UpdateConfig is a PUT of the whole config object to /configs/{name}")
    func updateConfig() {
        let body: JSONValue = .object([JSONMember("configName", .string("web")), JSONMember("inputType", .string("file"))])
        let call = ControlPlaneCall.updateConfig(name: "web", body)
        #expect(call.method == "PUT" && call.path == "/configs/web" && call.body == body)
        let request = ControlPlaneRequest(call, project: "p", authority: "127.0.0.1:9",
                                          credentials: Credentials(accessKeyID: "id", accessKeySecret: "s"),
                                          epochSeconds: 1_795_744_200)
        #expect(request.header("Content-Type") == "application/json" && request.body == body.bytes)
    }
}
