// PipelinePreview.swift
//
// `tailcar parse`: one pipeline's line framing and processors run over sample input, each record printed
// as the flushers would write it, with `"__unmatched__":true` when a parser could not parse it (or a time
// fell back to the read time) and `"__dropped__":true` when the pipeline would drop it (a processor, or
// multi-line framing's discard of a line outside any record); the topic rule applies to the input's path.
// The console's "validate" button, in a terminal. Owns nothing the agent uses.

public final class PipelinePreview {
    private let keys = KeyTable()
    private let processors: [any EventProcessor]
    private let maxLineBytes: Int
    private let multiline: MultilineRules?
    private let topics: TopicExtractor?

    /// `localZone`: as the agent's (TZ), for times without a zone when the configuration names none.
    public init(_ settings: PipelineSettings, localZone: UTCOffset = .utc) throws(AgentError) {
        processors = try ProcessorFactory.make(settings.processors, pipeline: settings.name, keys: keys,
                                               localZone: localZone)
        maxLineBytes = settings.inputs.first?.maxLineBytes ?? 512 * 1024
        topics = try ProcessorFactory.topics(settings.topic, pipeline: settings.name)
        do {
            multiline = try ProcessorFactory.multiline(settings.inputs.first?.multiline ?? .singleLine)
        } catch {
            throw .input(pipeline: settings.name, error.description)
        }
    }

    /// Frames `input` into lines and returns one JSON line per record. `path` labels the records and,
    /// with a topic rule, gives their topic and topic tags as the file would.
    public func run(_ input: [UInt8], path: String) -> [UInt8] {
        var output: [UInt8] = []
        var splitter = LineSplitter(maxLineBytes: maxLineBytes)
        let group = EventGroup(keys: keys)
        group.source.path = path
        if let found = topics?.topic(forPath: path) {
            group.source.topic = found.topic
            group.source.tags = found.tags.map { ($0.key, $0.value) }
        }
        let (seconds, nanoseconds) = wallClock()
        var framer = multiline.map(MultilineFramer.init(rules:))
        func line(_ bytes: UnsafeRawBufferPointer) {
            if framer != nil {
                let discarded = framer!.discardedLines
                framer!.feed(bytes, at: 0) { record, _ in preview(record, group, seconds, nanoseconds, &output) }
                if framer!.discardedLines > discarded { droppedLine(bytes, &output) }
            } else {
                preview(bytes, group, seconds, nanoseconds, &output)
            }
        }
        input.withUnsafeBytes { window in
            let consumed = splitter.split(window) { range, _ in line(UnsafeRawBufferPointer(rebasing: window[range])) }
            let rest = UnsafeRawBufferPointer(rebasing: window[consumed...])
            _ = splitter.flushRemainder(rest) { range, _ in line(UnsafeRawBufferPointer(rebasing: rest[range])) }
        }
        framer?.flush { record, _ in preview(record, group, seconds, nanoseconds, &output) }
        return output
    }

    private func preview(_ line: UnsafeRawBufferPointer, _ group: EventGroup, _ seconds: UInt32,
                         _ nanoseconds: UInt32, _ output: inout [UInt8]) {
        group.reset()
        let before = unmatched()
        group.beginRecord(raw: line, seconds: seconds, nanoseconds: nanoseconds)
        group.addField(key: .table(keys.content), rawRange: 0..<line.count)
        var dropped = false
        for processor in processors where processor.process(group) == .drop {
            dropped = true
            break
        }
        if dropped {
            group.abandonRecord()
            droppedLine(line, &output)
            return
        }
        group.commitRecord()
        var record: [UInt8] = []
        RecordJSONWriter.append(group, to: &record)
        if unmatched() > before, record.count > 2 {
            record.removeLast(2)
            record.append(contentsOf: #","__unmatched__":true}"#.utf8)
            record.append(0x0A)
        }
        output.append(contentsOf: record)
    }

    /// A record or line the pipeline would drop: marked, with its raw text.
    private func droppedLine(_ line: UnsafeRawBufferPointer, _ output: inout [UInt8]) {
        output.append(contentsOf: #"{"__dropped__":true,"content":"#.utf8)
        RecordJSONWriter.appendString(line, to: &output)
        output.append(contentsOf: "}\n".utf8)
    }

    private func unmatched() -> Int {
        processors.reduce(0) { $0 + (($1 as? any CountingProcessor)?.unmatchedCount ?? 0) }
    }
}
