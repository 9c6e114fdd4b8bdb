// YAMLTree+Emit.swift
//
// Writes YAMLTree documents with libyaml's emitter: block style with two-space indentation, lines never
// wrapped, UTF-8 as it is, `---` between documents. Scalars keep the style they were read with (libyaml
// falls back to a quoted style when a plain one cannot carry the text).

import CYAML

extension YAMLTree {
    /// The YAML text of `documents`, one after another.
    public static func emit(_ documents: [YAMLTree]) throws(YAMLTreeError) -> [UInt8] {
        var emitter = yaml_emitter_t()
        guard yaml_emitter_initialize(&emitter) != 0 else { throw failure("cannot initialise the YAML emitter") }
        defer { yaml_emitter_delete(&emitter) }
        let sink = EmitSink()
        let opaque = Unmanaged.passUnretained(sink).toOpaque()
        yaml_emitter_set_output(&emitter, { data, buffer, size in
            guard let data, let buffer else { return 0 }
            let sink = Unmanaged<EmitSink>.fromOpaque(data).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
            return 1
        }, opaque)
        yaml_emitter_set_indent(&emitter, 2)
        yaml_emitter_set_width(&emitter, -1)
        yaml_emitter_set_unicode(&emitter, 1)
        var writer = EventWriter(emitter: &emitter)
        try writer.emit { event in yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING) }
        for document in documents {
            try writer.emit { event in yaml_document_start_event_initialize(&event, nil, nil, nil, 1) }
            try writer.node(document)
            try writer.emit { event in yaml_document_end_event_initialize(&event, 1) }
        }
        try writer.emit { event in yaml_stream_end_event_initialize(&event) }
        withExtendedLifetime(sink) {}
        return sink.bytes
    }

    static func failure(_ problem: String) -> YAMLTreeError {
        YAMLTreeError(file: "output", line: 0, column: 0, problem: problem)
    }
}

/// Where the emitter's output handler appends.
private final class EmitSink {
    var bytes: [UInt8] = []
}

/// Turns tree nodes into emitter events. Each event is initialised, then emitted (which frees it).
private struct EventWriter {
    let emitter: UnsafeMutablePointer<yaml_emitter_t>

    init(emitter: UnsafeMutablePointer<yaml_emitter_t>) { self.emitter = emitter }

    func emit(_ initialise: (inout yaml_event_t) -> Int32) throws(YAMLTreeError) {
        var event = yaml_event_t()
        guard initialise(&event) != 0 else { throw YAMLTree.failure("cannot build a YAML event") }
        guard yaml_emitter_emit(emitter, &event) != 0 else {
            let problem = emitter.pointee.problem.map { String(cString: $0) } ?? "the YAML emitter failed"
            throw YAMLTree.failure(problem)
        }
    }

    func node(_ node: YAMLTree) throws(YAMLTreeError) {
        switch node {
        case .scalar(let text, let style, let tag):
            try scalar(text, style: style, tag: tag)
        case .sequence(let items, let flow):
            try emit { event in
                yaml_sequence_start_event_initialize(&event, nil, nil, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE)
            }
            for item in items { try self.node(item) }
            try emit { event in yaml_sequence_end_event_initialize(&event) }
        case .mapping(let entries, let flow):
            try emit { event in
                yaml_mapping_start_event_initialize(&event, nil, nil, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)
            }
            for entry in entries {
                try scalar(entry.key, style: .plain, tag: nil)
                try self.node(entry.value)
            }
            try emit { event in yaml_mapping_end_event_initialize(&event) }
        }
    }

    private func scalar(_ text: String, style: YAMLTree.Style, tag: String?) throws(YAMLTreeError) {
        let yamlStyle: yaml_scalar_style_t
        switch style {
        case .plain: yamlStyle = YAML_PLAIN_SCALAR_STYLE
        case .singleQuoted: yamlStyle = YAML_SINGLE_QUOTED_SCALAR_STYLE
        case .doubleQuoted: yamlStyle = YAML_DOUBLE_QUOTED_SCALAR_STYLE
        case .literal: yamlStyle = YAML_LITERAL_SCALAR_STYLE
        case .folded: yamlStyle = YAML_FOLDED_SCALAR_STYLE
        }
        var bytes = Array(text.utf8)
        let length = Int32(bytes.count)
        if bytes.isEmpty { bytes.append(0) }  // libyaml copies the value; an empty one still needs a pointer
        var tagBytes = tag.map { Array($0.utf8) + [0] }
        // Without a tag, a plain scalar resolves by its text and a quoted one as a string: as it was read.
        let implicit: Int32 = tag == nil ? 1 : 0
        try emit { event in
            bytes.withUnsafeMutableBufferPointer { value in
                withOptionalPointer(&tagBytes) { tagPointer in
                    yaml_scalar_event_initialize(&event, nil, tagPointer, value.baseAddress, length,
                                                 implicit, implicit, yamlStyle)
                }
            }
        }
    }
}

private func withOptionalPointer<R>(_ bytes: inout [UInt8]?, _ body: (UnsafeMutablePointer<UInt8>?) -> R) -> R {
    guard bytes != nil else { return body(nil) }
    return bytes!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}
