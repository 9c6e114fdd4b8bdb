// TimestampParser.swift
//
// Logtail `timeKey`/`timeFormat` and iLogtail `processor_parse_timestamp_native`: reads the record's time
// from one of its fields with a precompiled format and sets it with `setTime`. Owns the fallback rule; does
// not own the format (TimeFormat.swift).
//
// A time without a zone in the data is read in the configured zone, else in `localZone`: the sidecar's TZ
// (or mounted /etc/localtime) as an offset taken at start, as Logtail reads it in the machine's local zone;
// UTC when neither is set. (A daylight-saving change during the run is not followed.) A value that does
// not parse, or a time outside 1970...2106 (the record's UInt32 seconds), leaves the record's time as it
// was (the read time) and is counted as a fallback; the record is never dropped and its fields are kept.

public final class TimestampParser: EventProcessor {
    public struct Counters: Sendable, Equatable {
        public var parsed = 0
        /// Records whose time field did not parse; they keep their read time.
        public var fallback = 0
        public var sourceMissing = 0

        public init() {}
    }

    public private(set) var counters = Counters()
    public let format: TimeFormat
    public let zone: UTCOffset
    private let sourceKey: Int

    /// `timezone` like "GMT+08:00", "UTC-05:00", "+0800"; nil or empty means `localZone`.
    public init(table: KeyTable, sourceKey: String, format: String, timezone: String?, localZone: UTCOffset = .utc)
        throws(ParserConfigError) {
        self.format = try TimeFormat(format)
        if let timezone, !timezone.isEmpty {
            self.zone = try UTCOffset(parsing: timezone)
        } else {
            self.zone = localZone
        }
        self.sourceKey = table.intern(sourceKey)
    }

    public func process(_ group: EventGroup) -> ProcessOutcome {
        guard let index = SourceFieldRunner.find(sourceKey, in: group) else {
            counters.sourceMissing += 1
            return .keep
        }
        let time = group.withBytes(group.fields[index].value) { format.parse($0, defaultOffset: zone) }
        guard let time, time.seconds >= 0, time.seconds <= Int64(UInt32.max) else {
            counters.fallback += 1
            return .keep
        }
        group.setTime(seconds: UInt32(time.seconds), nanoseconds: time.nanoseconds)
        counters.parsed += 1
        return .keep
    }
}
