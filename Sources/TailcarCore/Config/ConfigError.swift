// ConfigError.swift
//
// What configuration loading reports: errors that stop a pipeline from loading and warnings that do not,
// each naming the file, the line and column, the document, the field path and what was expected, in the
// one-line form `file:line:column: error: message`.

public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: SourcePosition
    /// The field path, e.g. `inputs[0].FilePaths`; empty for whole-file problems.
    public var field: String
    public var message: String

    public init(_ position: SourcePosition, field: String = "", _ message: String) {
        self.position = position
        self.field = field
        self.message = message
    }

    public var description: String { render(position, "error", field, message) }
}

public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    public var position: SourcePosition
    public var field: String
    public var message: String

    public init(_ position: SourcePosition, field: String = "", _ message: String) {
        self.position = position
        self.field = field
        self.message = message
    }

    public var description: String { render(position, "warning", field, message) }
}

/// Information about what loading decided, neither wrong nor suspicious: a resource skipped because it is for
/// other machine groups, where the SLS endpoint came from.
public struct ConfigNote: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): info: \(message)" }
}

private func render(_ position: SourcePosition, _ level: String, _ field: String, _ message: String) -> String {
    let document = position.document > 0 ? " (document \(position.document + 1))" : ""
    let subject = field.isEmpty ? "" : "\(field): "
    return "\(position)\(document): \(level): \(subject)\(message)"
}

/// The closest of `candidates` to `word` by edit distance (case-insensitive), if close enough to suggest.
func nearest(_ word: String, in candidates: [String]) -> String? {
    let target = Array(word.lowercased().utf8)
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(target, Array(candidate.lowercased().utf8))
        if distance <= max(2, target.count / 3), distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
    }
    return best?.0
}

private func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...max(1, b.count) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        if b.isEmpty { current[0] = i }
        swap(&previous, &current)
    }
    return previous[b.count]
}
