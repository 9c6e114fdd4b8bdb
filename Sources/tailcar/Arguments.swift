// Arguments.swift
//
// A small command-line reader: `--name value`, `--name=value`, boolean flags and positional arguments,
// with errors that name the option. Owns no knowledge of what the options mean.

struct UsageError: Error, CustomStringConvertible {
    var description: String
}

struct Arguments {
    private(set) var positional: [String] = []
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    /// `valued` lists the options that take a value; every other `--name` is a flag.
    init(_ arguments: ArraySlice<String>, valued: Set<String>, flags known: Set<String>) throws(UsageError) {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--"), argument.count > 2 else {
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if valued.contains(name) {
                if value == nil { value = rest.popFirst() }
                guard let value else { throw UsageError(description: "option --\(name) needs a value") }
                values[name] = value
            } else if known.contains(name) {
                guard value == nil else { throw UsageError(description: "option --\(name) takes no value") }
                flags.insert(name)
            } else {
                throw UsageError(description: "unknown option --\(name); see 'tailcar help'")
            }
        }
    }

    func value(_ name: String) -> String? { values[name] }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// A number of seconds (fractions allowed), as a Duration.
    func seconds(_ name: String) throws(UsageError) -> Duration? {
        guard let text = values[name] else { return nil }
        return try parseSeconds(text, what: "--\(name)")
    }
}

/// "10", "2.5", "0.2" seconds -> Duration; anything else is a usage error naming `what`.
func parseSeconds(_ text: String, what: String) throws(UsageError) -> Duration {
    guard let value = Double(text), value >= 0, value < 1e9 else {
        throw UsageError(description: "\(what) expects a number of seconds, got \"\(text)\"")
    }
    return .milliseconds(Int64((value * 1000).rounded()))
}
