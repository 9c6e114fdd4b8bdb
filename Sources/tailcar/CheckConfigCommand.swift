// CheckConfigCommand.swift
//
// `tailcar check-config [PATH] [--from-sls]`: loads PATH (default $TAILCAR_CONFIG, else /etc/tailcar/conf.d)
// as `run` would, with the same environment (machine group, SLS endpoint), and prints the effective
// pipelines, each with where it came from (`file:PATH` or `sls:project/config via group`), or every error
// with its file, line and field. `--from-sls` also fetches what the SLS console applies to this sidecar's
// ids (one discovery and one poll, as `run` makes them); PATH is then optional. Notes (skipped resources,
// the endpoint's source, what the console answered) and warnings go to stderr. Exit 0 when it loads, 1
// when it does not (or the console cannot be read), 2 for a usage error.

import Glibc
import TailcarCore

enum CheckConfigCommand {
    static func run(_ arguments: ArraySlice<String>, environment: Environment) -> Int32 {
        let parsed: Arguments
        do {
            parsed = try Arguments(arguments, valued: ConsoleOptions.valued, flags: ["from-sls", "no-sls-configs"])
            guard parsed.positional.count <= 1 else { throw UsageError(description: "more than one PATH") }
        } catch {
            printError("usage: tailcar check-config [PATH] [--from-sls]: \(error)")
            return 2
        }
        let fromSLS = parsed.flag("from-sls")
        let named = parsed.positional.first ?? environment.config
        let path = named ?? defaultConfigPath
        guard let context = sidecarContext(environment) else { return 1 }
        var pipelines: [PipelineSettings] = []
        if !fromSLS || named != nil || access(defaultConfigPath, F_OK) == 0 {
            let result = ConfigLoader.load(path: path, context: context)
            if let source = context.endpointSource, let endpoint = context.dataEndpoint {
                printError("environment: info: SLS endpoint \(endpoint): \(source)")
            }
            for note in result.notes { printError(note.description) }
            for warning in result.warnings { printError(warning.description) }
            for error in result.errors { printError(error.description) }
            guard result.errors.isEmpty, let settings = result.settings else { return 1 }
            pipelines = settings.pipelines
        }
        if fromSLS {
            guard let console = fetchConsole(parsed, environment: environment, context: context,
                                             localNames: Set(pipelines.map(\.name))) else { return 1 }
            pipelines += console
        }
        guard !pipelines.isEmpty else {
            printError("\(path): error: no pipeline applies to this sidecar: each has enable: false or is for other "
                       + "machine groups (user-defined ids \(context.userDefinedIDsDescription))")
            return 1
        }
        print(describe(AgentSettings(pipelines: pipelines)))
        return 0
    }

    /// The console's pipelines for this sidecar; nil (and why, on stderr) when they cannot be had.
    private static func fetchConsole(_ parsed: Arguments, environment: Environment, context: SidecarContext,
                                     localNames: Set<String>) -> [PipelineSettings]? {
        let credentials: CredentialSource?
        let settings: ConsoleControl.Settings?
        let reason: String
        do {
            do { credentials = try CredentialSource.fromEnvironment(environment.lookup) } catch {
                throw UsageError(description: error.description)
            }
            (settings, reason) = try ConsoleOptions.settings(parsed, environment: environment, context: context,
                                                             hasCredentials: credentials != nil)
        } catch {
            printError("sls: error: \(error)")
            return nil
        }
        guard let settings, let credentials else {
            printError("sls: error: the SLS console cannot be read: \(reason)")
            return nil
        }
        switch ConsoleFetch.once(settings, sidecar: context, credentials: credentials) {
        case .failure(let error):
            printError("sls: error: \(error)")
            return nil
        case .success(let fetched):
            printError("sls: info: \(fetched.projects) project(s), \(fetched.groupsSeen) machine group(s), "
                       + "\(fetched.groups.count) holding \(context.userDefinedIDsDescription), "
                       + "\(fetched.configs.count) config(s), \(fetched.requests) request(s)")
            let result = ConsoleConfigLoader.load(fetched.configs, context: context, localNames: localNames)
            for note in result.notes { printError(note.description) }
            for warning in result.warnings { printError(warning.description) }
            for error in result.errors { printError(error.description) }
            return result.errors.isEmpty ? result.pipelines : nil
        }
    }
}
