// FieldReader.swift
//
// Reads the fields of one configuration mapping with types, defaults and paths: each accessor records an
// error naming the field path and the expected form instead of throwing, so one load reports every
// problem; `finish()` turns the fields nobody asked for into warnings with the nearest known name.

struct Diagnosis {
    var errors: [ConfigError] = []
    var warnings: [ConfigWarning] = []
}

struct FieldReader {
    let value: ConfigValue
    let path: String
    /// What the mapping is, for messages: `input_file`, `flusher_sls`.
    let subject: String
    private(set) var known: [String] = []
    private let entries: [(key: String, keyPosition: SourcePosition, value: ConfigValue)]

    /// Nil (and an error) when `value` is not a mapping.
    init?(_ value: ConfigValue, path: String, subject: String, into diagnosis: inout Diagnosis) {
        guard case .mapping(let entries) = value.node else {
            diagnosis.errors.append(ConfigError(value.position, field: path, "expected a mapping, found \(value.kindName)"))
            return nil
        }
        self.value = value
        self.path = path
        self.subject = subject
        self.entries = entries
    }

    private func fieldPath(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    mutating func raw(_ key: String) -> ConfigValue? {
        known.append(key)
        return entries.first { $0.key == key }?.value
    }

    mutating func string(_ key: String, default fallback: String? = nil, required: Bool = false,
                         _ diagnosis: inout Diagnosis) -> String? {
        guard let found = raw(key), !found.isNull else {
            if required {
                diagnosis.errors.append(ConfigError(value.position, field: fieldPath(key), "is required in \(subject)"))
            }
            return fallback
        }
        guard case .scalar(let text, _) = found.node else {
            diagnosis.errors.append(ConfigError(found.position, field: fieldPath(key), "expected a string, found \(found.kindName)"))
            return fallback
        }
        return text
    }

    mutating func int(_ key: String, default fallback: Int, range: ClosedRange<Int>, _ diagnosis: inout Diagnosis) -> Int {
        guard let found = raw(key), !found.isNull else { return fallback }
        guard case .scalar(let text, _) = found.node, let number = Int(text), range.contains(number) else {
            diagnosis.errors.append(ConfigError(found.position, field: fieldPath(key),
                                                "expected a whole number from \(range.lowerBound) to \(range.upperBound)"))
            return fallback
        }
        return number
    }

    mutating func bool(_ key: String, default fallback: Bool, _ diagnosis: inout Diagnosis) -> Bool {
        guard let found = raw(key), !found.isNull else { return fallback }
        guard case .scalar(let text, _) = found.node else {
            diagnosis.errors.append(ConfigError(found.position, field: fieldPath(key), "expected true or false"))
            return fallback
        }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            diagnosis.errors.append(ConfigError(found.position, field: fieldPath(key), "expected true or false, found \"\(text)\""))
            return fallback
        }
    }

    mutating func stringList(_ key: String, required: Bool = false, _ diagnosis: inout Diagnosis) -> [String] {
        guard let found = raw(key), !found.isNull else {
            if required {
                diagnosis.errors.append(ConfigError(value.position, field: fieldPath(key), "is required in \(subject)"))
            }
            return []
        }
        guard case .sequence(let items) = found.node else {
            diagnosis.errors.append(ConfigError(found.position, field: fieldPath(key), "expected a list of strings, found \(found.kindName)"))
            return []
        }
        var strings: [String] = []
        for (index, item) in items.enumerated() {
            guard case .scalar(let text, _) = item.node, !item.isNull else {
                diagnosis.errors.append(ConfigError(item.position, field: "\(fieldPath(key))[\(index)]", "expected a string"))
                continue
            }
            strings.append(text)
        }
        return strings
    }

    /// A mapping of string to string (filter Include/Exclude), in file order.
    mutating func stringMap(_ key: String, _ diagnosis: inout Diagnosis) -> [(key: String, value: String)] {
        guard let found = raw(key), !found.isNull else { return [] }
        guard case .mapping(let entries) = found.node else {
            diagnosis.errors.append(ConfigError(found.position, field: fieldPath(key), "expected a mapping of field name to regex"))
            return []
        }
        var pairs: [(key: String, value: String)] = []
        for entry in entries {
            guard case .scalar(let text, _) = entry.value.node else {
                diagnosis.errors.append(ConfigError(entry.value.position, field: "\(fieldPath(key)).\(entry.key)", "expected a string"))
                continue
            }
            pairs.append((entry.key, text))
        }
        return pairs
    }

    /// Marks fields as known without reading them: accepted for compatibility, not acted on.
    mutating func accept(_ names: [String]) { known += names }

    /// Whether the mapping has this field at all.
    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// Warns about every field no accessor asked for, suggesting the nearest known name.
    func finish(_ diagnosis: inout Diagnosis) {
        for entry in entries where !known.contains(entry.key) {
            var message = "unknown field \"\(entry.key)\" in \(subject)"
            if let suggestion = nearest(entry.key, in: known) { message += "; did you mean \"\(suggestion)\"?" }
            diagnosis.warnings.append(ConfigWarning(entry.keyPosition, field: fieldPath(entry.key), message + " (ignored)"))
        }
    }
}
