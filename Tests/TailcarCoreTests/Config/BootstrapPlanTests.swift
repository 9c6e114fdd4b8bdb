// What `tailcar bootstrap` reads from an AliyunLogConfig resource: project, logstore, shardCount and
// lifeCycle (with the custom resource's defaults), machine groups, and the logtailConfig object as the
// CreateConfig body; plain Logtail configs and iLogtail pipelines carry no plan.
import Glibc
import Testing
@testable import TailcarCore

@Suite("Bootstrap plan")
struct BootstrapPlanTests {
    private func load(_ text: String) -> ConfigLoadResult {
        let scratch = ScratchDirectory()
        let path = scratch.path + "/resource.yaml"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return ConfigLoader.load(path: path)
    }

    private func resource(spec extra: String = "", outputDetail: String = "") -> String {
        """
        apiVersion: log.alibabacloud.com/v1alpha1
        kind: AliyunLogConfig
        metadata:
          name: nginx-log-error-example
        spec:
          project: k8s-nginx-sidecar-demo
          logstore: nginx-error
        \(extra)  machineGroups:
          - nginx-log-sidecar
          logtailConfig:
            inputType: file
            configName: nginx-log-error-example
        \(outputDetail)    inputDetail:
              logType: common_reg_log
              logPath: /var/log/nginx
              filePattern: "error.log"
              maxDepth: 3
              dockerFile: false
        """
    }

    @Test("the seed's error-log resource plans 2 shards, 90 days and its logtailConfig as the config body")
    func seedDefaults() throws {
        let result = load(resource())
        let plan = try #require(result.settings?.pipelines.first?.bootstrap)
        #expect(plan.project == "k8s-nginx-sidecar-demo" && plan.logstore == "nginx-error")
        #expect(plan.shardCount == 2 && plan.lifeCycleDays == 90)
        #expect(plan.machineGroups == ["nginx-log-sidecar"] && plan.configName == "nginx-log-error-example")
        #expect(plan.logtailConfig.text == #"{"inputType":"file","configName":"nginx-log-error-example","#
            + #""inputDetail":{"logType":"common_reg_log","logPath":"/var/log/nginx","filePattern":"error.log","#
            + #""maxDepth":3,"dockerFile":false},"outputType":"LogService","#
            + #""outputDetail":{"projectName":"k8s-nginx-sidecar-demo","logstoreName":"nginx-error"}}"#)
    }

    @Test("shardCount and lifeCycle are taken from the spec, outputDetail keeps its other members")
    func fromSpec() throws {
        let result = load(resource(spec: "  shardCount: 4\n  lifeCycle: 7\n",
                                   outputDetail: "    outputDetail:\n      logstoreName: other\n      region: cn-hangzhou\n"))
        let plan = try #require(result.settings?.pipelines.first?.bootstrap)
        #expect(plan.shardCount == 4 && plan.lifeCycleDays == 7)
        #expect(plan.logtailConfig.member("outputDetail")
            == .object([JSONMember("region", .string("cn-hangzhou")),
                        JSONMember("projectName", .string("k8s-nginx-sidecar-demo")),
                        JSONMember("logstoreName", .string("nginx-error"))]))
    }

    @Test("a shardCount that is not a positive whole number is an error naming the field")
    func invalidShardCount() {
        let result = load(resource(spec: "  shardCount: two\n"))
        #expect(result.settings == nil)
        #expect(result.errors.contains { $0.description.contains("spec.shardCount") })
    }

    @Test("an iLogtail pipeline carries no plan")
    func pipelineHasNone() throws {
        let result = load("inputs:\n  - Type: input_file\n    FilePaths: [/tmp/x.log]\nflushers:\n  - Type: flusher_stdout\n")
        let pipeline = try #require(result.settings?.pipelines.first)
        #expect(pipeline.bootstrap == nil)
    }
}
