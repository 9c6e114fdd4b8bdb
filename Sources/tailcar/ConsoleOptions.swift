// ConsoleOptions.swift
//
// Whether and how `run` and `check-config --from-sls` follow the SLS console: on when the sidecar has a
// user-defined id, an SLS endpoint (ALIYUN_LOGTAIL_CONFIG) and an AccessKey, unless `--no-sls-configs`;
// TAILCAR_SLS_PROJECTS (comma list) narrows the projects looked at; `--control-interval` (default 10 s)
// and `--discovery-interval` (default 300 s) set the polling.

import TailcarCore

enum ConsoleOptions {
    static let valued: Set<String> = ["control-interval", "discovery-interval"]

    /// The console's settings, or nil when the environment cannot follow it (why, when asked for, in `reason`).
    static func settings(_ parsed: Arguments, environment: Environment, context: SidecarContext,
                         hasCredentials: Bool) throws(UsageError) -> (ConsoleControl.Settings?, reason: String) {
        guard !parsed.flag("no-sls-configs") else { return (nil, "--no-sls-configs") }
        guard !context.userDefinedIDs.isEmpty else { return (nil, "no user-defined id (ALIYUN_LOGTAIL_USER_DEFINED_ID)") }
        guard let text = context.dataEndpoint else { return (nil, "no SLS endpoint (ALIYUN_LOGTAIL_CONFIG)") }
        guard hasCredentials else {
            return (nil, "no AccessKey (ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or ALIBABA_CLOUD_CREDENTIALS_FILE)")
        }
        let endpoint: HTTPEndpoint
        do { endpoint = try HTTPEndpoint(parsing: text) } catch { throw UsageError(description: error.description) }
        let projects = environment.lookup("TAILCAR_SLS_PROJECTS").map { list in
            list.split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }
        }
        var settings = ConsoleControl.Settings(endpoint: endpoint, projects: projects?.isEmpty == true ? nil : projects)
        if let interval = try parsed.seconds("control-interval") {
            guard interval >= .milliseconds(10) else { throw UsageError(description: "--control-interval must be at least 0.01") }
            settings.controlInterval = interval
        }
        if let interval = try parsed.seconds("discovery-interval") {
            guard interval >= .milliseconds(10) else { throw UsageError(description: "--discovery-interval must be at least 0.01") }
            settings.discoveryInterval = interval
        }
        return (settings, "")
    }
}
