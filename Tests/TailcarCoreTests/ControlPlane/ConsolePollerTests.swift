// ConsolePoller on a real loop against an in-process SLS stand-in (LocalHTTPServer on loopback): refused
// credentials are failed rounds with the SLS code and request id and a doubling back-off, a recovered poll
// fetches the configs, a name /configs does not know is fetched as a pipeline config and remembered, and a
// poll after discovery costs one request per group plus one per config.

import Glibc
import Testing
@testable import TailcarCore

@Suite("Console poller")
struct ConsolePollerTests {
    /// What the stand-in console answers; `refuse` answers this many requests 401 Unauthorized first.
    final class Console {
        var refuse = 2
        var paths: [String] = []

        func answer(_ request: LocalHTTPRequest) -> LocalHTTPResponse {
            paths.append(request.path)
            let id = [("x-log-requestid", "REQ\(paths.count)")]
            if refuse > 0 {
                refuse -= 1
                return LocalHTTPResponse(status: 401, contentType: "application/json",
                                         body: #"{"errorCode":"Unauthorized","errorMessage":"denied"}"#, headers: id)
            }
            let json: String
            switch request.path {
            case "/machinegroups": json = #"{"count":2,"total":2,"machinegroups":["web","decoy"]}"#
            case "/machinegroups/web": json = #"{"groupName":"web","machineIdentifyType":"userdefined","machineList":["me"]}"#
            case "/machinegroups/decoy": json = #"{"groupName":"decoy","machineIdentifyType":"userdefined","machineList":["x"]}"#
            case "/machinegroups/web/configs": json = #"{"count":1,"configs":["app"]}"#
            case "/pipelineconfigs/app": json = #"{"configName":"app","inputs":[],"flushers":[]}"#
            default:
                return LocalHTTPResponse(status: 404, contentType: "application/json",
                                         body: #"{"errorCode":"ConfigNotExist","errorMessage":"no"}"#, headers: id)
            }
            return LocalHTTPResponse(status: 200, contentType: "application/json", body: json, headers: id)
        }
    }

    @Test("refusals back off doubling, then discovery and polls fetch the configs with few requests")
    func backoffThenConfigs() throws {
        let loop = try EventLoop()
        let console = Console()
        let server = try LocalHTTPServer(loop: loop, port: 0) { console.answer($0) }
        let client = HTTPClient(loop: loop, maxConnections: 1)
        let credentials = CredentialSource(.fixed(Credentials(accessKeyID: "id", accessKeySecret: "secret")))
        let settings = ConsolePoller.Settings(endpoint: HTTPEndpoint(scheme: .http, host: "127.0.0.1", port: server.port),
                                              projects: ["p"], ids: ["me"], controlInterval: .milliseconds(20),
                                              discoveryInterval: .seconds(60))
        let poller = try ConsolePoller(loop: loop, client: client, credentials: credentials, settings: settings)
        var outcomes: [ConsolePoller.Outcome] = []
        poller.onRound = { outcome in
            outcomes.append(outcome)
            if outcomes.count == 4 { loop.stop() }
        }
        let deadline = try LoopTimer(loop: loop)
        deadline.onFire = { loop.stop() }
        deadline.start(afterMilliseconds: 10_000)
        poller.start()
        loop.run()
        poller.stop()
        deadline.close()
        client.shutDown()
        server.close()
        _ = loop.runOnce()
        loop.close()

        try #require(outcomes.count == 4)
        guard case let .failed(first, firstWait) = outcomes[0], case let .failed(second, secondWait) = outcomes[1] else {
            Issue.record("expected two failed rounds, got \(outcomes)")
            return
        }
        #expect(first.code == "Unauthorized" && first.description.contains("[request REQ1]"))
        #expect(second.code == "Unauthorized" && (firstWait, secondWait) == (20, 40))
        guard case let .configs(configs, groups, requests, failures) = outcomes[2],
              case let .configs(_, _, again, _) = outcomes[3] else {
            Issue.record("expected two polls, got \(outcomes)")
            return
        }
        #expect(groups == [ConsoleGroup(project: "p", name: "web", topic: "")] && failures == 2)
        #expect(configs.map(\.name) == ["app"] && configs[0].kind == .pipeline)
        // ListMachineGroup, 2 GetMachineGroup, GetAppliedConfigs, GetConfig (404), GetLogtailPipelineConfig.
        #expect(requests == 6)
        // One group, one config whose form is remembered.
        #expect(again == 2)
        #expect(console.paths.suffix(2) == ["/machinegroups/web/configs", "/pipelineconfigs/app"])
    }
}
