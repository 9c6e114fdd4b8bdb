// The topic a file gets from its path (Logtail topicFormat, iLogtail TopicType), and the agent tags.
import Testing
@testable import TailcarCore

@Suite("TopicExtractor")
struct TopicExtractorTests {
    private func topic(_ settings: TopicSettings, _ path: String) throws -> TopicExtractor.Topic {
        try TopicExtractor(settings).topic(forPath: path)
    }

    @Test("none gives no topic and a fixed topic is the same for every file")
    func constant() throws {
        #expect(try topic(.none, "/l/a.log") == TopicExtractor.Topic(topic: ""))
        #expect(try topic(.fixed("app-login"), "/l/a.log") == TopicExtractor.Topic(topic: "app-login"))
    }

    @Test("path regexes: one group, named groups, several groups, rotation suffixes, no match", arguments: [
        (#"/var/log/(\w+)/access\.log"#, "/var/log/web/access.log", "web", [String]()),
        (#"/var/log/(\w+)/access\.log"#, "/var/log/web/access.log.1", "web", []),
        (#"/var/log/(\w+)/access\.log"#, "/var/log/web/access.log.9", "", []),
        (#"/logs/(?P<user>[^/]+)/svc/app\.log"#, "/logs/ann/svc/app.log", "ann", ["user=ann"]),
        (#"/logs/([^/]+)/([^/]+)/app\.log"#, "/logs/ann/svcA/app.log", "ann_svcA", ["__topic_1__=ann", "__topic_2__=svcA"]),
        (#"/logs/(?P<u>[^/]+)/(\w+)\.log"#, "/logs/bo/api.log", "bo_api", ["u=bo", "__topic_2__=api"]),
        (#"/logs/(x)?(\w+)\.log"#, "/logs/api.log", "_api", ["__topic_1__=", "__topic_2__=api"]),
        (#"/var/log/(\w+)"#, "/var/log/web/access.log", "", []),
        ("mytopic", "/var/log/a.log", "", []),
    ])
    func pathRegex(regex: String, path: String, expected: String, tags: [String]) throws {
        let found = try topic(.filePath(regex: regex), path)
        #expect(found.topic == expected)
        #expect(found.tags.map { "\($0.key)=\($0.value)" } == tags)
        #expect(found.matched == (expected != "" || regex.contains("(x)?")))
    }

    @Test("a path regex that does not compile is a configuration error naming topicFormat")
    func badRegex() {
        #expect(throws: ParserConfigError.self) { try TopicExtractor(.filePath(regex: "/l/(unclosed")) }
    }
}

@Suite("AgentTags")
struct AgentTagsTests {
    @Test("ALIYUN_LOG_ENV_TAGS names become tags in order, absent ones skipped, then __hostname__")
    func tags() {
        let environment = ["_pod_name_": "web-1", "_namespace_": "default"]
        let tags = AgentTags.make(envTagNames: "_pod_name_||_pod_ip_|_namespace_", hostname: "web-1") { environment[$0] }
        #expect(tags.map { "\($0.key)=\($0.value)" } == ["_pod_name_=web-1", "_namespace_=default", "__hostname__=web-1"])
        #expect(AgentTags.make(envTagNames: nil, hostname: "") { _ in nil }.isEmpty)
    }

    @Test("the host name is the kernel's")
    func hostname() {
        let name = AgentTags.hostname()
        #expect(!name.isEmpty && !name.contains("\0"))
    }
}
