// YAMLReader.swift
//
// Reads YAML (and JSON, which libyaml reads as flow-style YAML) into ConfigValue trees, one per document,
// with libyaml's event parser. Owns the C boundary to libyaml; aliases are rejected (no configuration needs
// them, and they would let a small file expand without bound).

import CYAML

enum YAMLReader {
    /// Every document in `bytes`. Errors carry libyaml's problem and position.
    static func documents(_ bytes: [UInt8], file: String) throws(ConfigError) -> [ConfigValue] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else {
            throw ConfigError(SourcePosition(file: file, line: 1, column: 1), "cannot initialise the YAML parser")
        }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeBufferPointer { (input: UnsafeBufferPointer<UInt8>) throws(ConfigError) in
            yaml_parser_set_input_string(&parser, input.baseAddress ?? UnsafePointer(bitPattern: 1)!, input.count)
            var builder = TreeBuilder(file: file)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else { throw parseError(parser, file: file, document: builder.document) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try builder.consume(event)
            }
            return builder.finished
        }
    }

    private static func parseError(_ parser: yaml_parser_t, file: String, document: Int) -> ConfigError {
        let mark = parser.problem_mark
        let problem = parser.problem.map { String(cString: $0) } ?? "unreadable YAML"
        let context = parser.context.map { String(cString: $0) + ": " } ?? ""
        return ConfigError(SourcePosition(file: file, document: document, line: mark.line + 1, column: mark.column + 1),
                           "YAML: \(context)\(problem)")
    }
}

/// Builds trees from the event stream.
private struct TreeBuilder {
    enum Open {
        case mapping([(key: String, keyPosition: SourcePosition, value: ConfigValue)], SourcePosition, pendingKey: (String, SourcePosition)?)
        case sequence([ConfigValue], SourcePosition)
    }

    let file: String
    var document = -1
    var stack: [Open] = []
    var finished: [ConfigValue] = []

    init(file: String) { self.file = file }

    private func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(file: file, document: max(0, document), line: mark.line + 1, column: mark.column + 1)
    }

    mutating func consume(_ event: yaml_event_t) throws(ConfigError) {
        let at = position(event.start_mark)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            document += 1
        case YAML_MAPPING_START_EVENT:
            stack.append(.mapping([], at, pendingKey: nil))
        case YAML_SEQUENCE_START_EVENT:
            stack.append(.sequence([], at))
        case YAML_MAPPING_END_EVENT:
            guard case .mapping(let entries, let start, _) = stack.popLast() else { return }
            try add(ConfigValue(.mapping(entries), at: start))
        case YAML_SEQUENCE_END_EVENT:
            guard case .sequence(let items, let start) = stack.popLast() else { return }
            try add(ConfigValue(.sequence(items), at: start))
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            try add(ConfigValue(.scalar(text, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE), at: at))
        case YAML_ALIAS_EVENT:
            throw ConfigError(at, "YAML aliases (*name) are not supported in Tailcar configuration")
        default:
            break
        }
    }

    private mutating func add(_ value: ConfigValue) throws(ConfigError) {
        guard let top = stack.popLast() else {
            finished.append(value)
            return
        }
        switch top {
        case .sequence(var items, let start):
            items.append(value)
            stack.append(.sequence(items, start))
        case .mapping(var entries, let start, let pending):
            if let (key, keyPosition) = pending {
                entries.append((key, keyPosition, value))
                stack.append(.mapping(entries, start, pendingKey: nil))
            } else {
                guard case .scalar(let key, _) = value.node else {
                    throw ConfigError(value.position, "a mapping key must be a scalar, not \(value.kindName)")
                }
                if entries.contains(where: { $0.key == key }) {
                    throw ConfigError(value.position, "duplicate key \"\(key)\"")
                }
                stack.append(.mapping(entries, start, pendingKey: (key, value.position)))
            }
        }
    }
}
