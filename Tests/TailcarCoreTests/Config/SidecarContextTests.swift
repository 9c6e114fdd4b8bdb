// SidecarContextTests.swift
//
// The environment's part in configuration: the endpoint from ilogtail_config.json or from the vendor's
// directory layout, and which resources apply to this sidecar's machine group.

import Glibc
import Testing
@testable import TailcarCore

@Suite("Sidecar context")
struct SidecarContextTests {
    private func pipeline(_ name: String, groups: [String], endpoint: String = "") -> PipelineSettings {
        PipelineSettings(name: name, origin: "/conf/\(name).yaml",
                         inputs: [FileInputSettings(filePaths: ["/var/log/*.log"])],
                         flushers: [.sls(SLSFlusherSettings(endpoint: endpoint, project: "p", logstore: "s"))],
                         machineGroups: groups)
    }

    @Test("data_server_list[0] gives the endpoint and the region")
    func regionFile() throws {
        let text = """
            {"config_server_address": "http://logtail.cn-hangzhou-intranet.log.aliyuncs.com",
             "data_server_list": [{"cluster": "cn-hangzhou", "endpoint": "cn-hangzhou-intranet.log.aliyuncs.com"}],
             "cpu_usage_limit": 0.4, "streamlog_open": false}
            """
        let (endpoint, region, _) = try SidecarContext.endpoint(in: Array(text.utf8), file: "c.json")
        #expect(endpoint == "cn-hangzhou-intranet.log.aliyuncs.com")
        #expect(region == "cn-hangzhou")
    }

    @Test("a region file without data_server_list is an error naming the field")
    func regionFileWithoutList() {
        #expect(throws: ConfigError.self) {
            try SidecarContext.endpoint(in: Array("{\"config_server_address\": \"x\"}".utf8), file: "c.json")
        }
        #expect(throws: ConfigError.self) {
            try SidecarContext.endpoint(in: Array("{\"data_server_list\": [{\"cluster\": \"x\"}]}".utf8), file: "c.json")
        }
    }

    @Test("the vendor's layout names the region: intranet by default, public with -internet")
    func derivedEndpoints() {
        let intranet = SidecarContext.derivedEndpoint("/etc/ilogtail/conf/cn-hangzhou/ilogtail_config.json")
        #expect(intranet?.endpoint == "cn-hangzhou-intranet.log.aliyuncs.com")
        let internet = SidecarContext.derivedEndpoint("/etc/ilogtail/conf/ap-southeast-1-internet/ilogtail_config.json")
        #expect(internet?.endpoint == "ap-southeast-1.log.aliyuncs.com")
        #expect(internet?.region == "ap-southeast-1")
        #expect(SidecarContext.derivedEndpoint("/tmp/ilogtail_config.json") == nil)
        #expect(SidecarContext.derivedEndpoint("/etc/ilogtail/conf/${your_region_config}/ilogtail_config.json") == nil)
        #expect(SidecarContext.derivedEndpoint("/etc/ilogtail/conf/cn-hangzhou/other.json") == nil)
    }

    @Test("resources for other machine groups are skipped with a note naming them; no groups means everywhere")
    func machineGroups() {
        let context = SidecarContext(userDefinedIDs: ["ops", "web"], dataEndpoint: "cn-hangzhou.log.aliyuncs.com", region: "cn-hangzhou")
        var notes: [ConfigNote] = []
        let kept = ConfigLoader.applying(context, to: [pipeline("mine", groups: ["batch", "web"]),
                                                       pipeline("theirs", groups: ["batch"]),
                                                       pipeline("anyone", groups: [])], notes: &notes)
        #expect(kept.map(\.name) == ["mine", "anyone"])
        #expect(notes.count == 1)
        #expect(notes.first?.description.contains("\"theirs\"") == true)
        #expect(notes.first?.file == "/conf/theirs.yaml")
    }

    @Test("SLS flushers without an endpoint take the region's; one that names its own keeps it")
    func endpoints() {
        let context = SidecarContext(dataEndpoint: "cn-hangzhou.log.aliyuncs.com", region: "cn-hangzhou")
        var notes: [ConfigNote] = []
        let kept = ConfigLoader.applying(context, to: [pipeline("a", groups: []),
                                                       pipeline("b", groups: [], endpoint: "cn-shanghai.log.aliyuncs.com")],
                                         notes: &notes)
        #expect(kept[0].flushers == [.sls(SLSFlusherSettings(endpoint: "cn-hangzhou.log.aliyuncs.com", project: "p",
                                                             logstore: "s", region: "cn-hangzhou"))])
        #expect(kept[1].flushers == [.sls(SLSFlusherSettings(endpoint: "cn-shanghai.log.aliyuncs.com", project: "p",
                                                             logstore: "s"))])
        #expect(notes.isEmpty)
    }

    @Test("without a user-defined id every resource applies, and one note says the groups were not checked")
    func noIdentity() {
        var notes: [ConfigNote] = []
        let kept = ConfigLoader.applying(SidecarContext(), to: [pipeline("x", groups: ["g"]), pipeline("y", groups: ["h"])],
                                         notes: &notes)
        #expect(kept.count == 2)
        #expect(notes.count == 1)
        #expect(notes[0].message.contains("ALIYUN_LOGTAIL_USER_DEFINED_ID is not set"))
    }

    @Test("LoongCollector's format: data_servers[0].endpoint_list[0], the region from the entry or primary_region")
    func loongCollectorRegionFile() throws {
        let text = """
            {"primary_region": "cn-shanghai", "config_servers": ["http://logtail.cn-shanghai-internal.log.aliyuncs.com"],
             "data_servers": [{"region": "cn-shanghai", "endpoint_list": ["cn-shanghai-internal.log.aliyuncs.com"]}],
             "cpu_usage_limit": 0.4, "mem_usage_limit": 384}
            """
        let found = try SidecarContext.endpoint(in: Array(text.utf8), file: "c.json")
        #expect(found.endpoint == "cn-shanghai-internal.log.aliyuncs.com")
        #expect(found.region == "cn-shanghai")
        #expect(found.field == "data_servers[0].endpoint_list[0]")
        let primaryOnly = #"{"primary_region": "ap-southeast-1", "data_servers": [{"endpoint_list": ["a.example"]}]}"#
        #expect(try SidecarContext.endpoint(in: Array(primaryOnly.utf8), file: "c.json").region == "ap-southeast-1")
        #expect(throws: ConfigError.self) {
            try SidecarContext.endpoint(in: Array(#"{"data_servers": [{"region": "x", "endpoint_list": []}]}"#.utf8), file: "c.json")
        }
    }

    @Test("user-defined ids: the variable split on commas, then the file's lines, trimmed, without repeats")
    func userDefinedIDs() {
        let ids = SidecarContext.userDefinedIDs(variable: " web, batch,,", file: Array("web\nops \r\n\n".utf8))
        #expect(ids == ["web", "batch", "ops"])
        #expect(SidecarContext.userDefinedIDs(variable: nil, file: nil).isEmpty)
        #expect(SidecarContext.userDefinedIDs(variable: "", file: Array("only\n".utf8)) == ["only"])
    }

    @Test("load reads the id file beside the variable; a missing file is no error")
    func loadReadsIDFile() throws {
        let directory = "/tmp/tailcar-sidecar-context-\(getpid())"
        mkdir(directory, 0o755)
        defer { unlink(directory + "/user_defined_id"); rmdir(directory) }
        let file = directory + "/user_defined_id"
        let text = "from-file\n"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let context = try SidecarContext.load(userDefinedID: "from-env", logtailConfigPath: nil, userDefinedIDFile: file)
        #expect(context.userDefinedIDs == ["from-env", "from-file"])
        let none = try SidecarContext.load(userDefinedID: nil, logtailConfigPath: nil, userDefinedIDFile: directory + "/absent")
        #expect(none.userDefinedIDs.isEmpty)
    }
}
