// BootstrapCommand.swift
//
// `tailcar bootstrap [--config PATH]`: loads the configuration as `run` does (same environment: machine
// group, SLS endpoint, credentials) and creates in SLS what its AliyunLogConfig resources name: project,
// logstore, index, machine groups, the Logtail config and its application to each group; and, for each
// flusher_clickhouse, its database and table (ClickHouseBootstrapper). Prints one line
// per resource (created, exists, or failed with the SLS error code and request id). Exit 0 when every
// resource exists now, 1 when one does not, 2 for a usage or configuration error. `run --bootstrap` calls
// `bootstrap(_:credentials:diagnostics:)` before it starts; there failures are logged and the run goes on.

import TailcarCore

enum BootstrapCommand {
    static func run(_ arguments: ArraySlice<String>, environment: Environment) -> Int32 {
        let configPath: String
        let credentials: CredentialSource?
        do throws(UsageError) {
            let parsed = try Arguments(arguments, valued: ["config"], flags: [])
            guard parsed.positional.isEmpty else {
                throw UsageError(description: "unexpected argument \"\(parsed.positional[0])\"")
            }
            configPath = parsed.value("config") ?? environment.config ?? defaultConfigPath
            do { credentials = try CredentialSource.fromEnvironment(environment.lookup) } catch {
                throw UsageError(description: error.description)
            }
        } catch {
            printError("tailcar bootstrap: \(error)")
            return 2
        }
        guard let context = sidecarContext(environment) else { return 2 }
        let diagnostics = Diagnostics()
        guard let settings = RunCommand.loadSettings(configPath, context: context, diagnostics: diagnostics) else {
            return 2
        }
        let hasSLS = settings.pipelines.contains { $0.bootstrap != nil }
        let hasClickHouse = ClickHouseBootstrapper.hasWork(settings.pipelines)
        guard hasSLS || hasClickHouse else {
            printError("tailcar bootstrap: no AliyunLogConfig resource in \(configPath) applies to this sidecar "
                       + "(user-defined ids \(context.userDefinedIDsDescription)), and no pipeline has a flusher_clickhouse")
            return 1
        }
        var steps: [BootstrapStep] = []
        if hasClickHouse {
            steps += ClickHouseBootstrapper.run(settings.pipelines) { step in
                print(step.description)
            }
        }
        if hasSLS {
            guard let credentials else {
                printError("tailcar bootstrap: no AccessKey: set ALIBABA_CLOUD_ACCESS_KEY_ID and "
                           + "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or ALIBABA_CLOUD_CREDENTIALS_FILE")
                return 2
            }
            steps += Bootstrapper(credentials: credentials).run(settings.pipelines) { step in print(step.description) }
        }
        return steps.contains { $0.outcome.isFailure } ? 1 : 0
    }

    /// `run --bootstrap`: the same steps (ClickHouse databases and tables, then SLS), each one an event;
    /// nothing here stops the run.
    static func bootstrap(_ settings: AgentSettings, credentials: CredentialSource.Origin?, diagnostics: Diagnostics,
                          caFile: String? = nil) {
        let hasSLS = settings.pipelines.contains { $0.bootstrap != nil }
        let hasClickHouse = ClickHouseBootstrapper.hasWork(settings.pipelines)
        guard hasSLS || hasClickHouse else {
            diagnostics.record(.bootstrapStep(resource: "(none)",
                                              outcome: "no AliyunLogConfig resource or flusher_clickhouse to bootstrap",
                                              failed: false))
            return
        }
        let record = { (step: BootstrapStep) in
            diagnostics.record(.bootstrapStep(resource: step.resource, outcome: step.outcome.description,
                                              failed: step.outcome.isFailure))
        }
        if hasClickHouse { _ = ClickHouseBootstrapper.run(settings.pipelines, caFile: caFile, report: record) }
        guard hasSLS else { return }
        guard let credentials else {
            diagnostics.record(.bootstrapStep(resource: "(all)", outcome: "failed: no AccessKey in the environment",
                                              failed: true))
            return
        }
        _ = Bootstrapper(credentials: CredentialSource(credentials)).run(settings.pipelines, report: record)
    }
}
