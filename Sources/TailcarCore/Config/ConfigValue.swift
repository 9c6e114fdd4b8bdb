// ConfigValue.swift
//
// The source tree of a configuration file: what YAML or JSON said, with where it said it, before any
// meaning is given to it. Owns positions and the typed accessors validation uses; not the field names.

/// Where a node starts: file, document (0-based, for multi-document YAML), line and column (1-based).
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var document: Int
    public var line: Int
    public var column: Int

    public init(file: String, document: Int = 0, line: Int, column: Int) {
        self.file = file
        self.document = document
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

public struct ConfigValue: Sendable {
    public indirect enum Node: Sendable {
        case mapping([(key: String, keyPosition: SourcePosition, value: ConfigValue)])
        case sequence([ConfigValue])
        /// A scalar's text; `plain` is false when it was quoted (so "10" stays a string).
        case scalar(String, plain: Bool)
    }

    public var node: Node
    public var position: SourcePosition

    public init(_ node: Node, at position: SourcePosition) {
        self.node = node
        self.position = position
    }

    /// A plain `null`, `~` or empty scalar.
    public var isNull: Bool {
        if case .scalar(let text, true) = node { return text.isEmpty || text == "null" || text == "~" || text == "Null" || text == "NULL" }
        return false
    }

    /// The kind, for messages: "a mapping", "a list", "a string".
    public var kindName: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(_, let plain): return plain && isNull ? "null" : "a scalar"
        }
    }

    public func member(_ key: String) -> ConfigValue? {
        guard case .mapping(let entries) = node else { return nil }
        return entries.first { $0.key == key }?.value
    }
}
