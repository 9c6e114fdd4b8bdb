// ApsaraParser.swift
//
// Logtail `apsara_log` / iLogtail `processor_parse_apsara_native`, following iLogtail's rules. Owns the
// Apsara layout; does not own the unmatched policy (SourcePolicy.swift).
//
//   [2024-01-01 12:00:00.123456]\t[INFO]\t[12345]\t[/build/file.cpp:42]\tk1:v1\tk2:v2
//   -> __LEVEL__=INFO __THREAD__=12345 __FILE__=/build/file.cpp __LINE__=42 k1=v1 k2=v2
//      microtime=1704110400123456, record time 1704110400 s + 123456000 ns
//
// - The line must start with '['. The time is the text up to the first ']': seconds since the epoch when it
//   starts with '1' ("[1704110400]"), else "%Y-%m-%d %H:%M:%S", then, if more follows, one separator byte and
//   a fraction read to microseconds. That local time is read in the configured zone, else `localZone` (TZ). A time
//   that does not parse, or is not after 1970, makes the line unmatched.
// - Bracketed base fields are those ending in "]\t", "]\n" or "]" at the end (at most 10; the scan stops at
//   a "]\t" not followed by '['). After the time, the first all-[A-Z] one is __LEVEL__, the first all-digit
//   one __THREAD__, the first holding '/' or '.' is split at its first ':' into __FILE__ and __LINE__.
// - The rest, split on tabs, gives key:value pairs split at their first ':'; parts without ':' are dropped.
// - `microtime` holds the time in microseconds since the epoch, in decimal.

public final class ApsaraParser: EventProcessor {
    public private(set) var counters = ParserCounters()
    public let zone: UTCOffset

    private var runner: SourceFieldRunner
    private let levelKey, threadKey, fileKey, lineKey, microtimeKey: Int
    private static let maxBaseFields = 10
    private static let baseTimeFormat = try! TimeFormat("%Y-%m-%d %H:%M:%S")

    public init(table: KeyTable, sourceKey: String = "content", timezone: String? = nil,
                localZone: UTCOffset = .utc, policy: SourcePolicy) throws(ParserConfigError) {
        if let timezone, !timezone.isEmpty {
            zone = try UTCOffset(parsing: timezone)
        } else {
            zone = localZone
        }
        levelKey = table.intern("__LEVEL__")
        threadKey = table.intern("__THREAD__")
        fileKey = table.intern("__FILE__")
        lineKey = table.intern("__LINE__")
        microtimeKey = table.intern("microtime")
        runner = SourceFieldRunner(sourceKey: table.intern(sourceKey), policy: policy)
    }

    public func process(_ group: EventGroup) -> ProcessOutcome {
        runner.run(group, counters: &counters) { raw, staging in
            guard let micros = parseTime(raw) else { return false }
            stageFields(raw, &staging)
            let mark = staging.mark
            appendDecimal(Int(micros), &staging)
            staging.add(.table(microtimeKey), staging.written(since: mark))
            group.setTime(seconds: UInt32(micros / 1_000_000), nanoseconds: UInt32(micros % 1_000_000) * 1000)
            return true
        }
    }

    /// Microseconds since the epoch of the leading "[...]", or nil.
    func parseTime(_ raw: UnsafeRawBufferPointer) -> Int64? {
        guard raw.count > 1, raw[0] == 0x5B, let close = raw[1...].firstIndex(of: 0x5D) else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: raw[1..<close])
        var micros: Int64
        if raw[1] == 0x31 {
            var reader = TimeReader(bytes: text)
            var fields = TimeFields()
            guard reader.read(.epochSeconds, into: &fields), let epoch = fields.epoch else { return nil }
            if reader.position < text.count {
                guard text[reader.position] == 0x2E else { return nil }
                reader.position += 1
                guard reader.read(.fraction, into: &fields), reader.position == text.count else { return nil }
            }
            micros = epoch * 1_000_000 + Int64(fields.nanoseconds / 1000)
        } else {
            let base = UnsafeRawBufferPointer(rebasing: text[..<min(19, text.count)])
            guard let time = Self.baseTimeFormat.parse(base, defaultOffset: zone) else { return nil }
            micros = time.seconds * 1_000_000
            if text.count > 20 {
                var reader = TimeReader(bytes: UnsafeRawBufferPointer(rebasing: text[20...]))
                var fields = TimeFields()
                if reader.read(.fraction, into: &fields) { micros += Int64(fields.nanoseconds / 1000) }
            }
        }
        guard micros > 0, micros / 1_000_000 <= Int64(UInt32.max) else { return nil }
        return micros
    }

    /// Stages the base fields and the key:value pairs.
    private func stageFields(_ raw: UnsafeRawBufferPointer, _ staging: inout FieldStaging) {
        let lastBaseEnd = stageBaseFields(raw, &staging)
        guard lastBaseEnd < raw.count else { return }
        var start = 0
        var colon = -1
        var index = lastBaseEnd + 1
        while index <= raw.count {
            if index == raw.count || raw[index] == 0x09 {
                if colon >= 0 {
                    staging.add(.bytes(.source(start..<colon)), .source(colon + 1..<index))
                    colon = -1
                }
                start = index + 1
            } else if raw[index] == 0x3A && colon == -1 {
                colon = index
            }
            index += 1
        }
    }

    /// Stages __LEVEL__, __THREAD__, __FILE__ and __LINE__; returns the index of the last base field's ']'
    /// (0 when there is none, as iLogtail does).
    private func stageBaseFields(_ raw: UnsafeRawBufferPointer, _ staging: inout FieldStaging) -> Int {
        var begins = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var ends = begins
        var count = 0
        withUnsafeMutableBytes(of: &begins) { beginBytes in
            withUnsafeMutableBytes(of: &ends) { endBytes in
                let begin = beginBytes.bindMemory(to: Int.self)
                let end = endBytes.bindMemory(to: Int.self)
                findBaseFields(raw, begin, end, &count)
                classify(raw, begin, end, count, &staging)
                count = count > 0 ? end[count - 1] : 0
            }
        }
        return count
    }

    private func findBaseFields(_ raw: UnsafeRawBufferPointer, _ begin: UnsafeMutableBufferPointer<Int>,
                                _ end: UnsafeMutableBufferPointer<Int>, _ count: inout Int) {
        var index = 0
        while index < raw.count {
            if raw[index] == 0x5B {
                begin[count] = index + 1
            } else if raw[index] == 0x5D {
                let next: UInt8? = index + 1 < raw.count ? raw[index + 1] : nil
                if next == nil || next == 0x09 || next == 0x0A {
                    end[count] = index
                    count += 1
                }
                if count >= Self.maxBaseFields { return }
                if next == 0x09 && (index + 2 == raw.count || raw[index + 2] != 0x5B) { return }
            }
            index += 1
        }
    }

    private func classify(_ raw: UnsafeRawBufferPointer, _ begin: UnsafeMutableBufferPointer<Int>,
                          _ end: UnsafeMutableBufferPointer<Int>, _ count: Int, _ staging: inout FieldStaging) {
        var level = false, thread = false, file = false
        var field = 1
        while field < count && !(level && thread && file) {
            let range = begin[field]..<max(begin[field], end[field])
            let bytes = UnsafeRawBufferPointer(rebasing: raw[range])
            if !level && bytes.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) {
                level = true
                staging.add(.table(levelKey), .source(range))
            } else if !thread && bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                thread = true
                staging.add(.table(threadKey), .source(range))
            } else if !file && bytes.contains(where: { $0 == 0x2F || $0 == 0x2E }) {
                file = true
                let colon = bytes.firstIndex(of: 0x3A).map { range.lowerBound + $0 } ?? range.upperBound
                staging.add(.table(fileKey), .source(range.lowerBound..<colon))
                if colon < range.upperBound { staging.add(.table(lineKey), .source(colon + 1..<range.upperBound)) }
            }
            field += 1
        }
    }
}
