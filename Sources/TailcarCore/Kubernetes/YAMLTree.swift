// YAMLTree.swift
//
// YAML documents read and written back through libyaml, for tools that edit manifests (`tailcar inject`).
// Unlike ConfigValue (which keeps source positions for configuration messages), a YAMLTree keeps what
// writing back needs: key order, scalar styles and explicit tags, so `"8080"` stays a string and `|`
// blocks stay blocks. Comments do not survive (libyaml reports none). Anchors and aliases are refused.
// Owns the C boundary to libyaml's parser and emitter for this purpose; not what the YAML means.

import CYAML

public indirect enum YAMLTree: Equatable, Sendable {
    public enum Style: Equatable, Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }

    case scalar(String, style: Style, tag: String?)
    case sequence([YAMLTree], flow: Bool)
    case mapping([Entry], flow: Bool)

    /// A mapping entry: Kubernetes manifests only ever have string keys.
    public struct Entry: Equatable, Sendable {
        public var key: String
        public var value: YAMLTree

        public init(_ key: String, _ value: YAMLTree) {
            self.key = key
            self.value = value
        }
    }
}

/// Why a YAML stream could not be read or written.
public struct YAMLTreeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var problem: String

    public var description: String { line > 0 ? "\(file):\(line):\(column): \(problem)" : "\(file): \(problem)" }
}

// MARK: Building values

extension YAMLTree {
    /// A string that reads back as a string: quoted when plain YAML would make it a number, a boolean or
    /// null ("10", "true", "", "~"), plain otherwise.
    public static func string(_ text: String) -> YAMLTree {
        .scalar(text, style: looksTyped(text) ? .doubleQuoted : .plain, tag: nil)
    }

    /// A plain integer.
    public static func int(_ value: Int) -> YAMLTree { .scalar(String(value), style: .plain, tag: nil) }

    public static func bool(_ value: Bool) -> YAMLTree { .scalar(value ? "true" : "false", style: .plain, tag: nil) }

    public static func map(_ entries: [(String, YAMLTree)]) -> YAMLTree {
        .mapping(entries.map { Entry($0.0, $0.1) }, flow: false)
    }

    public static func list(_ items: [YAMLTree]) -> YAMLTree { .sequence(items, flow: false) }

    /// A list of strings written on one line: `["tailcar", "status"]`.
    public static func inlineList(_ items: [String]) -> YAMLTree {
        .sequence(items.map { .scalar($0, style: .doubleQuoted, tag: nil) }, flow: true)
    }

    private static func looksTyped(_ text: String) -> Bool {
        let resolved: Set<String> = ["", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False",
                                     "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
                                     ".nan", ".NaN", ".inf", "-.inf", "+.inf", ".Inf"]
        if resolved.contains(text) { return true }
        guard let first = text.utf8.first else { return true }
        return (first >= 0x30 && first <= 0x39) || first == 0x2B || first == 0x2D || first == 0x2E
    }

    // MARK: Reading values

    /// The text of a scalar.
    public var text: String? {
        if case .scalar(let text, _, _) = self { return text }
        return nil
    }

    public var items: [YAMLTree]? {
        if case .sequence(let items, _) = self { return items }
        return nil
    }

    public var isMapping: Bool {
        if case .mapping = self { return true }
        return false
    }

    /// A mapping's value for `key`; setting a missing key appends it, setting nil removes it.
    public subscript(key: String) -> YAMLTree? {
        get {
            guard case .mapping(let entries, _) = self else { return nil }
            return entries.first { $0.key == key }?.value
        }
        set {
            guard case .mapping(var entries, let flow) = self else { return }
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key, newValue))
            }
            self = .mapping(entries, flow: flow)
        }
    }

    /// The value at a path of keys.
    public subscript(path path: [String]) -> YAMLTree? {
        get {
            var node: YAMLTree? = self
            for key in path { node = node?[key] }
            return node
        }
        set {
            guard let first = path.first else {
                if let newValue { self = newValue }
                return
            }
            var child = self[first] ?? .mapping([], flow: false)
            child[path: Array(path.dropFirst())] = newValue
            self[first] = child
        }
    }
}

// MARK: Parsing

extension YAMLTree {
    /// Every document in `bytes`, in order (empty documents are null scalars).
    public static func documents(_ bytes: [UInt8], file: String) throws(YAMLTreeError) -> [YAMLTree] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            throw YAMLTreeError(file: file, line: 0, column: 0, problem: "cannot initialise the YAML parser")
        }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeBufferPointer { (input: UnsafeBufferPointer<UInt8>) throws(YAMLTreeError) in
            yaml_parser_set_input_string(&parser, input.baseAddress ?? UnsafePointer(bitPattern: 1)!, input.count)
            var builder = TreeStack(file: file)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else {
                    let mark = parser.problem_mark
                    let problem = parser.problem.map { String(cString: $0) } ?? "unreadable YAML"
                    throw YAMLTreeError(file: file, line: mark.line + 1, column: mark.column + 1, problem: problem)
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try builder.consume(event)
            }
            return builder.documents
        }
    }
}

private struct TreeStack {
    enum Open {
        case mapping([YAMLTree.Entry], pendingKey: String?, flow: Bool)
        case sequence([YAMLTree], flow: Bool)
    }

    let file: String
    var stack: [Open] = []
    var documents: [YAMLTree] = []

    init(file: String) { self.file = file }

    mutating func consume(_ event: yaml_event_t) throws(YAMLTreeError) {
        let line = event.start_mark.line + 1
        let column = event.start_mark.column + 1
        switch event.type {
        case YAML_MAPPING_START_EVENT:
            stack.append(.mapping([], pendingKey: nil, flow: event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE))
        case YAML_SEQUENCE_START_EVENT:
            stack.append(.sequence([], flow: event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE))
        case YAML_MAPPING_END_EVENT:
            guard case .mapping(let entries, _, let flow) = stack.popLast() else { return }
            try add(.mapping(entries, flow: flow), line: line, column: column)
        case YAML_SEQUENCE_END_EVENT:
            guard case .sequence(let items, let flow) = stack.popLast() else { return }
            try add(.sequence(items, flow: flow), line: line, column: column)
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let tag = scalar.tag.map { String(cString: $0) }
            try add(.scalar(text, style: style(scalar.style), tag: tag), line: line, column: column)
        case YAML_ALIAS_EVENT:
            throw YAMLTreeError(file: file, line: line, column: column, problem: "YAML aliases (*name) are not supported")
        default:
            break
        }
    }

    private func style(_ style: yaml_scalar_style_t) -> YAMLTree.Style {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: return .literal
        case YAML_FOLDED_SCALAR_STYLE: return .folded
        default: return .plain
        }
    }

    private mutating func add(_ value: YAMLTree, line: Int, column: Int) throws(YAMLTreeError) {
        guard let top = stack.popLast() else {
            documents.append(value)
            return
        }
        switch top {
        case .sequence(var items, let flow):
            items.append(value)
            stack.append(.sequence(items, flow: flow))
        case .mapping(var entries, let pending, let flow):
            if let key = pending {
                entries.append(YAMLTree.Entry(key, value))
                stack.append(.mapping(entries, pendingKey: nil, flow: flow))
            } else {
                guard let key = value.text else {
                    throw YAMLTreeError(file: file, line: line, column: column, problem: "a mapping key must be a scalar")
                }
                if entries.contains(where: { $0.key == key }) {
                    throw YAMLTreeError(file: file, line: line, column: column, problem: "duplicate key \"\(key)\"")
                }
                stack.append(.mapping(entries, pendingKey: key, flow: flow))
            }
        }
    }
}
