// Tests of the console's pure pieces: the signed GETs (golden signatures from aliyun-log-python-sdk's
// AuthV1 with the Date pinned), discovery and poll rounds driven with hand-written answers in the API's
// shapes, the loader's mapping of a console config to a pipeline, and the cache's round trip.
import Glibc
import Testing
@testable import TailcarCore

@Suite("Console control plane")
struct ConsoleRoundsTests {
    let credentials = Credentials(accessKeyID: "mockAccessKeyID", accessKeySecret: "mockAccessKeySecret")
    /// Fri, 27 Nov 2026 01:50:00 GMT
    let epoch = 1_795_744_200

    func found(_ json: String) -> ConsoleReply {
        .found(try! ConsoleAnswer.document(Array(json.utf8), call: "test"), body: Array(json.utf8))
    }

    func gone(_ code: String) -> ConsoleReply { .gone(SLSError(status: 404, code: code, message: "", requestID: "R")) }

    @Test("ListMachineGroup is a signed GET with its query in the target and the signature (SDK golden)")
    func signedGet() {
        let request = ControlPlaneRequest(.listMachineGroups(offset: 0, size: 500), project: "demo",
                                          authority: "cn-hangzhou.log.aliyuncs.com", credentials: credentials,
                                          epochSeconds: epoch)
        #expect(request.method == "GET" && request.path == "/machinegroups?offset=0&size=500" && request.body.isEmpty)
        #expect(request.header("Host") == "demo.cn-hangzhou.log.aliyuncs.com")
        #expect(request.header("Content-Type") == nil && request.header("x-log-bodyrawsize") == "0")
        #expect(request.header("Authorization") == "LOG mockAccessKeyID:ApJoytw+x2a+q8vqRxW+lyUhnNo=")
        #expect(String(decoding: request.wireBytes, as: UTF8.self).hasPrefix("GET /machinegroups?offset=0&size=500 HTTP/1.1\r\n"))
    }

    @Test("ListProject goes to the bare endpoint (SDK golden)")
    func listProjectBareHost() {
        let request = ControlPlaneRequest(.listProjects(offset: 500, size: 500), project: "",
                                          authority: "cn-hangzhou.log.aliyuncs.com", credentials: credentials,
                                          epochSeconds: epoch)
        #expect(request.header("Host") == "cn-hangzhou.log.aliyuncs.com" && request.path == "/?offset=500&size=500")
        #expect(request.header("Authorization") == "LOG mockAccessKeyID:paDHBUwIoqexBI7agg9OCjMp7/o=")
    }

    @Test("discovery pages projects and groups until offset reaches total, and keeps groups naming our id")
    func discovery() throws {
        var round = DiscoveryRound(projects: nil, ids: ["web", "ops"])
        #expect(round.next == .listProjects(offset: 0))
        try round.take(found(#"{"count":2,"total":3,"projects":[{"projectName":"a"},{"projectName":"b"}]}"#), call: "t")
        #expect(round.queue == [.listGroups(project: "a", offset: 0), .listGroups(project: "b", offset: 0),
                                .listProjects(offset: 2)])
        try round.take(found(#"{"count":1,"total":2,"machinegroups":["g1"]}"#), call: "t")
        try round.take(found(#"{"count":0,"total":0,"machinegroups":[]}"#), call: "t")
        try round.take(found(#"{"count":1,"total":3,"projects":[{"projectName":"c"}]}"#), call: "t")
        #expect(round.queue == [.describeGroup(project: "a", group: "g1"), .listGroups(project: "a", offset: 1),
                                .listGroups(project: "c", offset: 0)])
        try round.take(found(#"{"groupName":"g1","machineIdentifyType":"userdefined","machineList":["ops"],"groupAttribute":{"groupTopic":"T"}}"#), call: "t")
        try round.take(found(#"{"count":1,"total":2,"machinegroups":["decoy"]}"#), call: "t")
        try round.take(gone("ProjectNotExist"), call: "t")
        #expect(round.next == .describeGroup(project: "a", group: "decoy"))
        try round.take(found(#"{"groupName":"decoy","machineIdentifyType":"userdefined","machineList":["other"]}"#), call: "t")
        #expect(round.next == nil)
        #expect(round.matched == [ConsoleGroup(project: "a", name: "g1", topic: "T")])
        #expect(round.projects == ["a", "b", "c"])
    }

    @Test("an ip group never applies, even when its list holds our id")
    func ipGroup() throws {
        var round = DiscoveryRound(projects: ["p"], ids: ["10.0.0.1"])
        try round.take(found(#"{"count":1,"total":1,"machinegroups":["g"]}"#), call: "t")
        try round.take(found(#"{"groupName":"g","machineIdentifyType":"ip","machineList":["10.0.0.1"]}"#), call: "t")
        #expect(round.matched.isEmpty)
    }

    @Test("a list answer without count is malformed")
    func malformed() {
        var round = DiscoveryRound(projects: ["p"], ids: ["x"])
        #expect(throws: ConsoleError.self) { try round.take(found(#"{"machinegroups":["g"]}"#), call: "t") }
    }

    @Test("a poll asks each config once per project, falls back to the pipeline form, and drops what is gone")
    func poll() throws {
        let g1 = ConsoleGroup(project: "p", name: "g1", topic: "")
        let g2 = ConsoleGroup(project: "p", name: "g2", topic: "")
        var round = PollRound(groups: [g1, g2], kinds: [:])
        try round.take(found(#"{"count":2,"configs":["a","b"]}"#), call: "t")
        try round.take(found(#"{"count":2,"configs":["b","c"]}"#), call: "t")
        #expect(round.queue == [.config(g1, name: "a", kind: .logtail), .config(g1, name: "b", kind: .logtail),
                                .config(g2, name: "c", kind: .logtail)])
        try round.take(found(#"{"configName":"a"}"#), call: "t")
        try round.take(gone("ConfigNotExist"), call: "t")
        #expect(round.next == .config(g1, name: "b", kind: .pipeline))
        try round.take(found(#"{"configName":"b","inputs":[]}"#), call: "t")
        try round.take(gone("ConfigNotExist"), call: "t")
        try round.take(gone("ConfigNotExist"), call: "t")
        #expect(round.next == nil)
        #expect(round.configs.map(\.name) == ["a", "b"])
        #expect(round.kinds == ["p/a": .logtail, "p/b": .pipeline])
        var again = PollRound(groups: [g1], kinds: round.kinds)
        try again.take(found(#"{"count":1,"configs":["b"]}"#), call: "t")
        #expect(again.next == .config(g1, name: "b", kind: .pipeline))
    }

    @Test("a Logtail config becomes a pipeline: group's project, region endpoint, group topic, sls origin")
    func loader() {
        let body = #"{"configName":"nginx","inputType":"file","inputDetail":{"logType":"common_reg_log","logPath":"/var/log/x","filePattern":"*.log","topicFormat":"group_topic","localStorage":true},"outputType":"LogService","outputDetail":{"logstoreName":"s","endpoint":"cn-hangzhou-intranet.log.aliyuncs.com","region":"cn-hangzhou","telemetryType":"logs"},"createTime":1,"lastModifyTime":2}"#
        let group = ConsoleGroup(project: "proj", name: "web", topic: "frontend")
        let config = ConsoleConfig(group: group, name: "nginx", kind: .logtail, body: Array(body.utf8))
        let context = SidecarContext(userDefinedIDs: ["web"], dataEndpoint: "http://127.0.0.1:9", region: "r")
        let result = ConsoleConfigLoader.load([config], context: context)
        #expect(result.errors.isEmpty && result.warnings.isEmpty)
        let pipeline = result.pipelines[0]
        #expect(pipeline.name == "nginx" && pipeline.origin == "sls:proj/nginx via web")
        #expect(pipeline.topic == .fixed("frontend"))
        #expect(pipeline.flushers == [.sls(SLSFlusherSettings(endpoint: "http://127.0.0.1:9", project: "proj", logstore: "s",
                                                              region: "r"))])
        let shadowed = ConsoleConfigLoader.load([config], context: context, localNames: ["nginx"])
        #expect(shadowed.pipelines.isEmpty && shadowed.notes.count == 1)
    }

    @Test("a pipeline config loads through the iLogtail validator with its metadata stripped")
    func pipelineConfig() {
        let body = #"{"configName":"app","createTime":1,"lastModifyTime":2,"logSample":"","global":{"TopicType":"machine_group_topic","TopicFormat":"x"},"inputs":[{"Type":"input_file","FilePaths":["/var/log/app/*.log"]}],"flushers":[{"Type":"flusher_sls","Logstore":"l","TelemetryType":"logs"}]}"#
        let config = ConsoleConfig(group: ConsoleGroup(project: "p", name: "g", topic: "gt"), name: "app", kind: .pipeline,
                                   body: Array(body.utf8))
        let result = ConsoleConfigLoader.load([config], context: SidecarContext(dataEndpoint: "e.example"))
        #expect(result.errors.isEmpty && result.warnings.isEmpty, "\(result.errors) \(result.warnings)")
        #expect(result.pipelines.first?.topic == .fixed("gt"))
        #expect(result.pipelines.first?.flushers == [.sls(SLSFlusherSettings(endpoint: "e.example", project: "p", logstore: "l"))])
    }

    @Test("a broken config is reported and the others load")
    func brokenConfig() {
        let good = ConsoleConfig(group: ConsoleGroup(project: "p", name: "g", topic: ""), name: "good", kind: .pipeline,
                                 body: Array(#"{"inputs":[{"Type":"input_file","FilePaths":["/l/*.log"]}],"flushers":[{"Type":"flusher_stdout"}]}"#.utf8))
        var bad = good
        bad.name = "bad"
        bad.body = Array(#"{"inputs":[{"Type":"input_file","FilePaths":["relative"]}],"flushers":[]}"#.utf8)
        let result = ConsoleConfigLoader.load([bad, good], context: SidecarContext())
        #expect(result.pipelines.map(\.name) == ["good"] && result.failed == ["bad"] && !result.errors.isEmpty)
        #expect(result.errors[0].position.file == "sls:p/bad via g")
    }

    @Test("the cache reads back what it wrote, bodies byte for byte")
    func cache() throws {
        let directory = "/tmp/tailcar-console-cache-\(getpid())"
        try makeDirectories(directory)
        defer { _ = unlink(ConsoleCache.path(in: directory)); _ = rmdir(directory) }
        let configs = [ConsoleConfig(group: ConsoleGroup(project: "p", name: "g", topic: "t \"q\""), name: "n", kind: .logtail,
                                     body: Array("{\"a\":\"line\\nnext \\\"x\\\" é\"}".utf8))]
        try ConsoleCache.write(configs, to: ConsoleCache.path(in: directory))
        #expect(try ConsoleCache.read(ConsoleCache.path(in: directory)) == configs)
        #expect(try ConsoleCache.read(directory + "/absent.json") == nil)
    }
}
