// CheckConfigCommand.swift
//
// `tailcar check-config PATH`: loads PATH as `run` would and prints the effective pipelines, or every
// error with its file, line and field. Exit 0 when it loads, 1 when it does not.

import TailcarCore

enum CheckConfigCommand {
    static func run(_ arguments: ArraySlice<String>) -> Int32 {
        guard arguments.count == 1, let path = arguments.first else {
            printError("usage: tailcar check-config PATH")
            return 2
        }
        let result = ConfigLoader.load(path: path)
        for warning in result.warnings { printError(warning.description) }
        for error in result.errors { printError(error.description) }
        guard result.errors.isEmpty, let settings = result.settings else { return 1 }
        print(describe(settings))
        return 0
    }
}
