// TopicExtractor.swift
//
// Turns a file's path into its topic, once, when the file is opened: Logtail's `topicFormat` and
// iLogtail's `global.TopicType`/`TopicFormat`. Owns the path rules; does not own where the topic goes
// (the runtime puts it in `EventGroup.source.topic`, the flusher in LogGroup field 3).
//
// Rules, after iLogtail's LogFileReader::GetTopicName:
//   - a rotation suffix `.1` … `.8` is dropped first (`/l/app.log.1` gives the topic of `/l/app.log`);
//   - the regex must match the whole path (boost regex_match);
//   - one group: its text is the topic; a named group `(?P<svc>…)` also becomes the tag `svc`;
//   - several groups: their texts joined with `_`; each is also a tag, named after its group or
//     `__topic_1__`, `__topic_2__`, … when unnamed;
//   - no match: no topic (counted by the caller), the records are still sent.
//
//   regex  /var/log/(?P<app>[^/]+)/(\w+)\.log    path /var/log/web/access.log.1
//   -> topic "web_access", tags [app: web, __topic_2__: access]

import TailcarRegex

public final class TopicExtractor {
    public struct Topic: Sendable, Equatable {
        public var topic: String
        public var tags: [Tag]
        /// False when a path regex did not match the path.
        public var matched: Bool

        public init(topic: String, tags: [Tag] = [], matched: Bool = true) {
            self.topic = topic
            self.tags = tags
            self.matched = matched
        }
    }

    public struct Tag: Sendable, Equatable {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    private enum Rule {
        case none
        case fixed(String)
        case path(RegexMatcher, names: [String?])
    }

    private let rule: Rule

    public init(_ settings: TopicSettings) throws(ParserConfigError) {
        switch settings {
        case .none: rule = .none
        case .fixed(let text): rule = .fixed(text)
        case .filePath(let pattern):
            let regex: CompiledRegex
            do {
                regex = try CompiledRegex(pattern)
            } catch {
                throw .badRegex(field: "topicFormat", message: error.description)
            }
            rule = .path(RegexMatcher(regex), names: regex.captureNames)
        }
    }

    public func topic(forPath path: String) -> Topic {
        switch rule {
        case .none: return Topic(topic: "")
        case .fixed(let text): return Topic(topic: text)
        case .path(let matcher, let names): return extract(Self.withoutRotationSuffix(path), matcher, names)
        }
    }

    private func extract(_ path: [UInt8], _ matcher: RegexMatcher, _ names: [String?]) -> Topic {
        var captures = [Int](repeating: -1, count: matcher.regex.captureSlots)
        let result = path.withUnsafeBytes { bytes in
            captures.withUnsafeMutableBufferPointer { matcher.matchWhole(bytes, captures: $0) }
        }
        guard result == .matched else { return Topic(topic: "", matched: false) }
        let values: [String] = (0..<names.count).map { group in
            let start = captures[2 * (group + 1)], end = captures[2 * (group + 1) + 1]
            guard start >= 0, end >= start else { return "" }
            return String(decoding: path[start..<end], as: UTF8.self)
        }
        if values.count == 1 {
            let tags = names[0].map { [Tag(key: $0, value: values[0])] } ?? []
            return Topic(topic: values[0], tags: tags)
        }
        let tags = values.enumerated().map { index, value in
            Tag(key: names[index] ?? "__topic_\(index + 1)__", value: value)
        }
        return Topic(topic: values.joined(separator: "_"), tags: tags)
    }

    /// The path's bytes without a trailing `.1` … `.8` (iLogtail's test, kept as it is).
    static func withoutRotationSuffix(_ path: String) -> [UInt8] {
        let bytes = Array(path.utf8)
        let count = bytes.count
        if count > 2, bytes[count - 2] == 0x2E, bytes[count - 1] > 0x30, bytes[count - 1] < 0x39 {
            return Array(bytes[..<(count - 2)])
        }
        return bytes
    }
}
