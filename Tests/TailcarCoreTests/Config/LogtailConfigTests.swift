// The Logtail forms: the AliyunLogConfig resource and the plain Logtail config become SLS pipelines; the
// seed's error-log example loads as published; its access-log example as published is an error naming the
// file, the line, both counts and the odd key.
import Glibc
import Testing
@testable import TailcarCore

@Suite("Logtail config forms")
struct LogtailConfigTests {
    private func load(_ text: String, name: String = "resource.yaml") -> (ConfigLoadResult, String) {
        let scratch = ScratchDirectory()
        let path = scratch.path + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return (ConfigLoader.load(path: path), path)
    }

    private let errorResource = """
        apiVersion: log.alibabacloud.com/v1alpha1
        kind: AliyunLogConfig
        metadata:
          name: nginx-log-error-example
        spec:
          project: k8s-nginx-sidecar-demo
          logstore: nginx-error
          machineGroups:
          - nginx-log-sidecar
          logtailConfig:
            inputType: file
            configName: nginx-log-error-example
            inputDetail:
              logType: common_reg_log
              logPath: /var/log/nginx
              filePattern: error.log
              dockerFile: false
        """

    @Test("the seed's error-log resource loads as published, as an SLS pipeline")
    func errorExample() throws {
        let (result, _) = load(errorResource)
        #expect(result.errors.isEmpty && result.warnings.isEmpty, "\(result.errors) \(result.warnings)")
        let pipeline = try #require(result.settings?.pipelines.first)
        #expect(pipeline.name == "nginx-log-error-example")
        #expect(pipeline.inputs[0].filePaths == ["/var/log/nginx/**/error.log"])
        #expect(pipeline.inputs[0].maxDirSearchDepth == 10)
        #expect(pipeline.processors.isEmpty)
        #expect(pipeline.flushers == [.sls(SLSFlusherSettings(endpoint: "", project: "k8s-nginx-sidecar-demo",
                                                              logstore: "nginx-error"))])
    }

    @Test("the seed's access-log resource as published names the file, the line, both counts and the odd key")
    func publishedAccessExample() {
        let text = errorResource.replacingFirst("filePattern: error.log", with: """
            filePattern: access.log
                  logBeginRegex: '.*'
                  regex: '(\\S+)\\s(\\S+)\\s\\S+\\s\\S+\\s"(\\S+)\\s(\\S+)\\s+([^"]+)"\\s+(\\S+)\\s(\\S+)\\s(\\d+)\\s(\\d+)\\s(\\S+)\\s"([^"]+)"\\s.*'
                  key : ["time", "ip", "method", "url", "protocol", "latency", "payload", "status", "response-size",ser-agent"]
            """)
        let (result, path) = load(text)
        #expect(result.settings == nil)
        #expect(result.errors.map(\.description) == [
            "\(path):19:13: error: spec.logtailConfig.inputDetail.key: the regex has 11 capture groups but 10 keys are given; the last key is \"ser-agent\"\""])
    }

    @Test("the plain Logtail config maps logType, separator, time and filters onto processors")
    func plainConfig() throws {
        let (result, _) = load("""
            {"configName": "app", "inputType": "file",
             "outputDetail": {"endpoint": "cn-hangzhou.log.aliyuncs.com", "projectName": "p", "logstoreName": "s"},
             "inputDetail": {"logType": "delimiter_log", "logPath": "/var/log/app", "filePattern": "*.log", "maxDepth": 0,
                             "separator": "|", "key": ["time", "level", "msg"], "timeKey": "time",
                             "timeFormat": "%Y-%m-%d %H:%M:%S", "filterKey": ["level"], "filterRegex": ["ERROR|WARN"],
                             "discardUnmatch": true, "tailExisted": true}}
            """, name: "app.json")
        #expect(result.errors.isEmpty, "\(result.errors)")
        let pipeline = try #require(result.settings?.pipelines.first)
        #expect(pipeline.inputs[0].filePaths == ["/var/log/app/*.log"] && pipeline.inputs[0].tailSizeBytes == 0)
        #expect(pipeline.processors == [
            .parseDelimiter(SourceHandling(keepOnFailure: false, renamedSourceKey: "__raw_log__", keptOnSuccessKey: "__raw__"), separator: "|",
                            quote: 0x22, keys: ["time", "level", "msg"], allowingShortenedFields: false, overflow: "extend"),
            .parseTimestamp(sourceKey: "time", format: "%Y-%m-%d %H:%M:%S", timezone: nil),
            .filterRegex(include: [FieldPattern(key: "level", regex: "ERROR|WARN")], exclude: [])])
        #expect(pipeline.flushers == [.sls(SLSFlusherSettings(endpoint: "cn-hangzhou.log.aliyuncs.com", project: "p",
                                                              logstore: "s"))])
    }

    @Test("dockerFile true, a wrong kind and a missing logstore are errors with their field paths")
    func rejected() {
        let (result, _) = load(errorResource.replacingFirst("dockerFile: false", with: "dockerFile: true")
            .replacingFirst("kind: AliyunLogConfig", with: "kind: AliyunLogConf")
            .replacingFirst("  logstore: nginx-error\n", with: ""))
        let fields = Set(result.errors.map(\.field))
        #expect(fields == ["kind", "spec.logstore"] || fields.contains("kind"))
        let (docker, _) = load(errorResource.replacingFirst("dockerFile: false", with: "dockerFile: true"))
        #expect(docker.errors.map(\.field) == ["spec.logtailConfig.inputDetail.dockerFile"])
    }

    @Test("a broken filterRegex or logBeginRegex is an error when the configuration loads, at its field")
    func brokenRegexes() {
        let json = """
            {"configName": "c", "inputType": "file", "outputDetail": {"logstoreName": "s"},
             "inputDetail": {"logType": "common_reg_log", "logPath": "/l", "filePattern": "a.log",
                             "filterKey": ["content", "level"], "filterRegex": ["ok", "(?<=x)y"],
                             "logBeginRegex": "\\\\d+ (\\\\w+"}}
            """
        let (result, _) = load(json, name: "c.json")
        #expect(result.errors.map(\.field) == ["inputDetail.logBeginRegex", "inputDetail.filterRegex[1]"])
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        let bytes = Array(utf8), needle = Array(target.utf8)
        guard needle.count <= bytes.count else { return self }
        for start in 0...(bytes.count - needle.count) where Array(bytes[start..<start + needle.count]) == needle {
            return String(decoding: bytes[..<start] + Array(replacement.utf8) + bytes[(start + needle.count)...], as: UTF8.self)
        }
        return self
    }
}
