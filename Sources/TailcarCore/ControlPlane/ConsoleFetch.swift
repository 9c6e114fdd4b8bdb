// ConsoleFetch.swift
//
// One discovery and one poll on a private loop, for `tailcar check-config --from-sls`: what `run` would
// load from the console here, without running. Owns that loop's lifetime; the calls are ConsolePoller's.

public enum ConsoleFetch {
    public struct Fetched: Sendable {
        public var configs: [ConsoleConfig]
        public var groups: [ConsoleGroup]
        public var projects: Int
        public var groupsSeen: Int
        public var requests: Int
    }

    /// Runs until the first round ends: its configs, or its error.
    public static func once(_ settings: ConsoleControl.Settings, sidecar: SidecarContext, credentials: CredentialSource,
                            caFile: String? = nil) -> Result<Fetched, ConsoleError> {
        let loop: EventLoop
        do { loop = try EventLoop() } catch { return .failure(.transport(call: "event loop", error.description)) }
        let client = HTTPClient(loop: loop, maxConnections: 1, caFile: caFile)
        var answer: Result<Fetched, ConsoleError> = .failure(.transport(call: "(none)", "no round ended"))
        var discovered = (projects: 0, groups: 0)
        do {
            let poller = try ConsolePoller(loop: loop, client: client, credentials: credentials,
                                           settings: ConsolePoller.Settings(endpoint: settings.endpoint,
                                                                            projects: settings.projects,
                                                                            ids: sidecar.userDefinedIDs))
            poller.onDiscovery = { projects, groups, _ in discovered = (projects, groups) }
            poller.onRound = { outcome in
                switch outcome {
                case let .configs(configs, groups, requests, _):
                    answer = .success(Fetched(configs: configs, groups: groups, projects: discovered.projects,
                                              groupsSeen: discovered.groups, requests: requests))
                case let .failed(error, _):
                    answer = .failure(error)
                }
                poller.stop()
                loop.stop()
            }
            poller.start()
            loop.run()
            poller.stop()
        } catch {
            answer = .failure(.transport(call: "event loop", error.description))
        }
        client.shutDown()
        loop.close()
        return answer
    }
}
