// Topic rules and nginx mode in both configuration forms: Logtail `topicFormat` / `nginxLogFormat`,
// iLogtail `global.TopicType` / `processor_parse_nginx`.
import Glibc
import Testing
@testable import TailcarCore

@Suite("Topic and nginx configuration")
struct TopicAndNginxConfigTests {
    private func load(_ text: String, name: String = "p.yaml") -> ConfigLoadResult {
        let scratch = ScratchDirectory()
        let path = scratch.path + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return ConfigLoader.load(path: path)
    }

    private func logtail(_ detail: String) -> ConfigLoadResult {
        load(#"{"configName": "c", "outputDetail": {"logstoreName": "s"}, "inputDetail": {"logPath": "/l", "filePattern": "*.log", "#
             + detail + "}}", name: "c.json")
    }

    @Test("Logtail topicFormat: none, default, customized://, a path regex", arguments: [
        (#""topicFormat": "none""#, TopicSettings.none),
        (#""topicFormat": "default""#, .none),
        (#""topicFormat": "customized://app-login""#, .fixed("app-login")),
        (#""topicFormat": "/l/(\\w+)\\.log""#, .filePath(regex: #"/l/(\w+)\.log"#)),
    ])
    func logtailTopic(field: String, expected: TopicSettings) throws {
        let result = logtail(field)
        #expect(result.errors.isEmpty && result.warnings.isEmpty, "\(result.errors) \(result.warnings)")
        #expect(try #require(result.settings?.pipelines.first).topic == expected)
    }

    @Test("group_topic and plain text warn; a broken path regex is an error naming topicFormat")
    func logtailTopicProblems() throws {
        let group = logtail(#""topicFormat": "group_topic""#)
        #expect(group.errors.isEmpty && group.warnings.map(\.field) == ["inputDetail.topicFormat"])
        let plain = logtail(#""topicFormat": "mytopic""#)
        #expect(plain.warnings.first?.message.contains("customized://mytopic") == true)
        let broken = logtail(#""topicFormat": "/l/(x""#)
        #expect(broken.settings == nil && broken.errors.map(\.field) == ["inputDetail.topicFormat"])
    }

    @Test("iLogtail global TopicType custom, filepath, machine_group_topic and a wrong type")
    func pipelineTopic() throws {
        func pipeline(_ global: String) -> ConfigLoadResult {
            load("global: " + global + "\ninputs: [{Type: input_file, FilePaths: [/l/*.log]}]\nflushers: [{Type: flusher_stdout}]\n")
        }
        #expect(pipeline("{TopicType: custom, TopicFormat: 'customized://web'}").settings?.pipelines[0].topic == .fixed("web"))
        #expect(pipeline("{TopicType: custom, TopicFormat: web}").settings?.pipelines[0].topic == .fixed("web"))
        #expect(pipeline(#"{TopicType: filepath, TopicFormat: '/l/(\w+)\.log'}"#).settings?.pipelines[0].topic
                == .filePath(regex: #"/l/(\w+)\.log"#))
        let group = pipeline("{TopicType: machine_group_topic}")
        #expect(group.settings?.pipelines[0].topic == TopicSettings.none && group.warnings.count == 1)
        #expect(pipeline("{TopicType: filepath}").errors.map(\.field) == ["global.TopicFormat"])
        #expect(pipeline("{TopicType: path}").errors.map(\.field) == ["global.TopicType"])
    }

    @Test("processor_parse_nginx derives the regex and keys from main, combined or a custom format")
    func nginxProcessor() throws {
        let result = load("""
            inputs: [{Type: input_file, FilePaths: [/l/*.log]}]
            processors:
              - {Type: processor_parse_nginx, NginxLogFormat: main, KeepingSourceWhenParseFail: true}
              - {Type: processor_parse_nginx, SourceKey: request_uri, NginxLogFormat: '/$app/$page'}
            flushers: [{Type: flusher_stdout}]
            """)
        #expect(result.errors.isEmpty && result.warnings.isEmpty, "\(result.errors) \(result.warnings)")
        let processors = try #require(result.settings?.pipelines.first).processors
        let main = NginxLogFormat.regex(for: NginxLogFormat.main)
        #expect(processors == [
            .parseRegex(SourceHandling(keepOnFailure: true), regex: main.pattern, keys: main.keys),
            .parseRegex(SourceHandling(sourceKey: "request_uri", keepOnFailure: false), regex: #"/(\S*)/(\S*).*"#,
                        keys: ["app", "page"])])
        let missing = load("inputs: [{Type: input_file, FilePaths: [/l/*.log]}]\n"
                           + "processors: [{Type: processor_parse_nginx}]\nflushers: [{Type: flusher_stdout}]\n")
        #expect(missing.errors.map(\.field) == ["processors[0].NginxLogFormat"])
    }

    @Test("Logtail nginxLogFormat becomes the derived regex parser; beside regex or key it is an error")
    func nginxLogtail() throws {
        let result = logtail(#""nginxLogFormat": "combined", "discardUnmatch": true"#)
        #expect(result.errors.isEmpty && result.warnings.isEmpty, "\(result.errors) \(result.warnings)")
        let combined = NginxLogFormat.regex(for: NginxLogFormat.combined)
        #expect(try #require(result.settings?.pipelines.first).processors == [
            .parseRegex(SourceHandling(keepOnFailure: false, renamedSourceKey: "__raw_log__", keptOnSuccessKey: "__raw__"), regex: combined.pattern,
                        keys: combined.keys)])
        let both = logtail(#""nginxLogFormat": "main", "key": ["a"]"#)
        #expect(both.settings == nil && both.errors.map(\.field) == ["inputDetail.nginxLogFormat"])
        let json = logtail(#""logType": "json_log", "nginxLogFormat": "main""#)
        #expect(json.errors.map(\.message) == ["needs logType common_reg_log, found \"json_log\""])
    }
}
