// CheckConfigCommand.swift
//
// `tailcar check-config [PATH]`: loads PATH (default $TAILCAR_CONFIG, else /etc/tailcar/conf.d) as `run`
// would, with the same environment (machine group, SLS endpoint), and prints the effective pipelines, or
// every error with its file, line and field. Notes (skipped resources, the endpoint's source) and warnings
// go to stderr. Exit 0 when it loads, 1 when it does not, 2 for a usage error.

import TailcarCore

enum CheckConfigCommand {
    static func run(_ arguments: ArraySlice<String>, environment: Environment) -> Int32 {
        guard arguments.count <= 1, arguments.first?.hasPrefix("--") != true else {
            printError("usage: tailcar check-config [PATH]")
            return 2
        }
        let path = arguments.first ?? environment.config ?? defaultConfigPath
        guard let context = sidecarContext(environment) else { return 1 }
        let result = ConfigLoader.load(path: path, context: context)
        if let source = context.endpointSource, let endpoint = context.dataEndpoint {
            printError("environment: info: SLS endpoint \(endpoint): \(source)")
        }
        for note in result.notes { printError(note.description) }
        for warning in result.warnings { printError(warning.description) }
        for error in result.errors { printError(error.description) }
        guard result.errors.isEmpty, let settings = result.settings else { return 1 }
        guard !settings.pipelines.isEmpty else {
            printError("\(path): error: no pipeline applies to this sidecar: each has enable: false or is for other "
                       + "machine groups (user-defined ids \(context.userDefinedIDsDescription))")
            return 1
        }
        print(describe(settings))
        return 0
    }
}
