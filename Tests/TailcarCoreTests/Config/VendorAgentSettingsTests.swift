// VendorAgentSettingsTests.swift
//
// The vendor agent's tuning: the environment over ilogtail_config.json for the resource keys, the
// LOONG_ names over the plain ones, the vendor's minimums, and the start-up note of what is not acted on.

import Testing
@testable import TailcarCore

@Suite("Vendor agent settings")
struct VendorAgentSettingsTests {
    private func config(_ text: String) throws -> ConfigValue? {
        try YAMLReader.documents(Array(text.utf8), file: "ilogtail_config.json").first
    }

    @Test("the environment wins over ilogtail_config.json for mem_usage_limit and max_bytes_per_sec")
    func environmentWins() throws {
        let json = try config(#"{"mem_usage_limit": 400, "max_bytes_per_sec": 2097152, "data_server_list": []}"#)
        let settings = VendorAgentSettings.resolve(variables: ["mem_usage_limit": "512"], config: json,
                                                   configFile: "/c.json")
        #expect(settings.memoryLimitBytes == 512 << 20)
        #expect(settings.maxBytesPerSecond == 2_097_152)
    }

    @Test("LOONG_MAX_BYTES_PER_SEC is read before max_bytes_per_sec")
    func loongName() {
        let settings = VendorAgentSettings.resolve(
            variables: ["LOONG_MAX_BYTES_PER_SEC": "209715200", "max_bytes_per_sec": "20971520"], config: nil, configFile: nil)
        #expect(settings.maxBytesPerSecond == 209_715_200)
    }

    @Test("values below the vendor's minimums are ignored, with a note")
    func minimums() throws {
        let json = try config(#"{"mem_usage_limit": 100, "max_bytes_per_sec": 1000}"#)
        let settings = VendorAgentSettings.resolve(variables: [:], config: json, configFile: "/c.json")
        #expect(settings.memoryLimitBytes == nil)
        #expect(settings.maxBytesPerSecond == nil)
        #expect(settings.notes.contains("mem_usage_limit=100 (/c.json) ignored: below the vendor's minimum 384"))
        #expect(settings.notes.contains("max_bytes_per_sec=1000 (/c.json) ignored: below the vendor's minimum 1048576"))
    }

    @Test("enable_full_drain_mode from the environment, true or false, anything else noted")
    func drainMode() {
        #expect(VendorAgentSettings.resolve(variables: ["enable_full_drain_mode": "true"], config: nil, configFile: nil).fullDrainMode)
        #expect(!VendorAgentSettings.resolve(variables: ["enable_full_drain_mode": "false"], config: nil, configFile: nil).fullDrainMode)
        let odd = VendorAgentSettings.resolve(variables: ["LOONG_ENABLE_FULL_DRAIN_MODE": "sure"], config: nil, configFile: nil)
        #expect(!odd.fullDrainMode)
        #expect(odd.notes == ["enable_full_drain_mode=sure (env LOONG_ENABLE_FULL_DRAIN_MODE) ignored: expected true or false"])
    }

    @Test("settings read and not acted on make one start-up note; the endpoint keys are not in it")
    func startupNote() throws {
        let json = try config(#"""
            {"config_server_address": "http://logtail.cn-hangzhou.log.aliyuncs.com",
             "data_server_list": [{"cluster": "cn-hangzhou", "endpoint": "cn-hangzhou.log.aliyuncs.com"}],
             "mem_usage_limit": 2048, "buffer_file_num": 25}
            """#)
        let settings = VendorAgentSettings.resolve(
            variables: ["cpu_usage_limit": "2", "send_request_concurrency": "20", "ALIYUN_LOGTAIL_USER_ID": "123"],
            config: json, configFile: "/c.json")
        #expect(settings.notes == [
            "cpu_usage_limit=2 (env cpu_usage_limit) read, not acted on",
            "send_request_concurrency=20 (env send_request_concurrency) read, not acted on",
            "ALIYUN_LOGTAIL_USER_ID (env) read, not acted on",
            "config_server_address (/c.json) read, not acted on",
            "buffer_file_num (/c.json) read, not acted on",
        ])
        #expect(settings.startupNote?.hasPrefix("vendor settings: cpu_usage_limit=2") == true)
        #expect(VendorAgentSettings.resolve(variables: [:], config: nil, configFile: nil).startupNote == nil)
    }
}
