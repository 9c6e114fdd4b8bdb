// DelimiterParser.swift
//
// Logtail `delimiter_log` / iLogtail `processor_parse_delimiter_native`: splits the source field on a
// separator of 1 to 4 bytes into the configured keys. Owns splitting, quoting and the surplus-column rule;
// does not own the unmatched policy (SourcePolicy.swift).
//
// As iLogtail does:
// - Leading spaces and trailing spaces and '\r' are trimmed first; an empty remainder is unmatched.
// - Quoting applies only to a one-byte separator different from the quote byte. A field that starts with
//   the quote runs to the next quote not doubled; `""` inside stands for one quote and is unescaped:
//       a,"b,""c""",d   ->  a | b,"c" | d
//   A quote inside an unquoted field, text after a closing quote, or an unclosed quote make it unmatched.
// - Fewer columns than keys: kept as far as they go with `allowingShortenedFields`, else unmatched.
// - More columns than keys (iLogtail OverflowedFieldsTreatment):
//     .extend  (default) each surplus column i (0-based) is kept under `__column<i>__`;
//     .keep    the rest of the line after the last keyed column, verbatim, under `__column<keys.count>__`
//              (iLogtail also prefixes it with one separator; Tailcar does not);
//     .discard surplus columns are dropped, and so are columns whose key is `_`.

public final class DelimiterParser: EventProcessor {
    public enum Overflow: Sendable { case extend, keep, discard }

    public private(set) var counters = ParserCounters()

    private var runner: SourceFieldRunner
    private let separator: [UInt8]
    private let quote: UInt8?
    /// Key index per column; -1 for a `_` column skipped in `.discard` mode. Plain memory owned here, so
    /// the per-field lookup touches no array (and no reference count).
    private let columnKeys: UnsafeMutableBufferPointer<Int>
    /// Interned `__column<i>__` names for the first surplus columns; later ones are staged as bytes. Plain
    /// memory too: the split must not touch reference counts (see FieldStaging's PlainBuffer).
    private let surplusKeys: UnsafeMutableBufferPointer<Int>
    private let allowingShortenedFields: Bool
    private let overflow: Overflow

    /// `separator` "\\t" (two characters) means a tab, as in iLogtail.
    public init(table: KeyTable, sourceKey: String = "content", separator: String, quote: UInt8? = 0x22,
                keys: [String], allowingShortenedFields: Bool = true, overflow: Overflow = .extend,
                policy: SourcePolicy, internedSurplusColumns: Int = 16) throws(ParserConfigError) {
        let bytes = separator == "\\t" ? [UInt8(ascii: "\t")] : Array(separator.utf8)
        guard !bytes.isEmpty else { throw .emptySeparator }
        guard bytes.count <= 4 else { throw .separatorTooLong(separator) }
        guard !keys.isEmpty else { throw .noKeys(parser: "delimiter") }
        self.separator = bytes
        self.quote = (bytes.count == 1 && quote != bytes[0]) ? quote : nil
        let interned = keys.map { overflow == .discard && $0 == "_" ? -1 : table.intern($0) }
        columnKeys = .allocate(capacity: interned.count)
        _ = columnKeys.initialize(from: interned)
        surplusKeys = .allocate(capacity: internedSurplusColumns)
        _ = surplusKeys.initialize(from: (0..<internedSurplusColumns).map {
            table.intern("__column\(keys.count + $0)__")
        })
        self.allowingShortenedFields = allowingShortenedFields
        self.overflow = overflow
        self.runner = SourceFieldRunner(sourceKey: table.intern(sourceKey), policy: policy)
    }

    deinit {
        columnKeys.deallocate()
        surplusKeys.deallocate()
    }

    public func process(_ group: EventGroup) -> ProcessOutcome {
        runner.run(group, counters: &counters) { raw, staging in split(raw, &staging) }
    }

    /// Trims, splits and stages; false when the line is unmatched.
    func split(_ raw: UnsafeRawBufferPointer, _ staging: inout FieldStaging) -> Bool {
        var end = raw.count
        while end > 0, raw[end - 1] == 0x20 || raw[end - 1] == 0x0D { end -= 1 }
        var begin = 0
        while begin < end, raw[begin] == 0x20 { begin += 1 }
        guard begin < end else { return false }
        var columns = ColumnSink(keys: columnKeys, surplusKeys: surplusKeys, overflow: overflow)
        let complete: Bool
        if separator.count == 1 {
            complete = splitSingle(raw, begin..<end, quote: quote, into: &columns, &staging)
        } else {
            complete = splitPlain(raw, begin..<end, into: &columns, &staging)
        }
        guard complete else { return false }
        return columns.count >= columnKeys.count || allowingShortenedFields
    }

    /// Splits on a separator of several bytes; no quoting.
    private func splitPlain(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>,
                            into columns: inout ColumnSink, _ staging: inout FieldStaging) -> Bool {
        var start = range.lowerBound
        var index = start
        let first = separator[0]
        let last = range.upperBound - separator.count
        while index <= last {
            if raw[index] == first && matchesSeparator(raw, at: index) {
                if columns.emit(.source(start..<index), rest: start..<range.upperBound, &staging) { return true }
                index += separator.count
                start = index
            } else {
                index += 1
            }
        }
        _ = columns.emit(.source(start..<range.upperBound), rest: start..<range.upperBound, &staging)
        return true
    }

    private func matchesSeparator(_ raw: UnsafeRawBufferPointer, at index: Int) -> Bool {
        for offset in 1..<max(separator.count, 1) where raw[index + offset] != separator[offset] { return false }
        return true
    }

    /// Splits on a one-byte separator, with quoting when `quote` is set. Unquoted text is read a word at a
    /// time: every separator in the word ends a column; a quote must open its column (see the header).
    private func splitSingle(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, quote: UInt8?,
                             into columns: inout ColumnSink, _ staging: inout FieldStaging) -> Bool {
        let end = range.upperBound
        var start = range.lowerBound
        var index = start
        while true {
            switch nextQuote(raw, from: index, end: end, quote: quote, start: &start, &columns, &staging) {
            case .stopped:
                return true
            case .end:
                _ = columns.emit(.source(start..<end), rest: start..<end, &staging)
                return true
            case .quote(let at):
                guard at == start, let quote else { return false }
                var doubled = 0
                guard let close = closingQuote(raw, from: at + 1, end: end, quote: quote, doubled: &doubled) else {
                    return false
                }
                let value = unquote(raw, at + 1..<close, quote: quote, doubled: doubled, &staging)
                if close + 1 == end {
                    _ = columns.emit(value, rest: start..<end, &staging)
                    return true
                }
                guard raw[close + 1] == separator[0] else { return false }
                if columns.emit(value, rest: start..<end, &staging) { return true }
                start = close + 2
                index = start
            }
        }
    }

    private enum UnquotedStop { case quote(Int), end, stopped }

    /// Emits a column for each separator from `from` on, until a quote (not emitted) or the end of the line
    /// (the last column not emitted), or until the columns say stop. `start` is the open column's start.
    @inline(__always)
    private func nextQuote(_ raw: UnsafeRawBufferPointer, from: Int, end: Int, quote: UInt8?, start: inout Int,
                           _ columns: inout ColumnSink, _ staging: inout FieldStaging) -> UnquotedStop {
        guard end >= 8, let bytes = raw.baseAddress else {
            return nextQuoteBytewise(raw, from: from, end: end, quote: quote, start: &start, &columns, &staging)
        }
        let sepPattern = UInt64(separator[0]) &* ByteScan.ones
        let quotePattern = UInt64(quote ?? 0) &* ByteScan.ones
        let quoting = quote != nil
        var index = from
        // Whole words without a quote, the common case, with as little as possible per word: two at a time,
        // then one.
        while index &+ 16 <= end {
            let first = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let second = bytes.loadUnaligned(fromByteOffset: index &+ 8, as: UInt64.self)
            if quoting && ByteScan.contains(first, second, quotePattern) { break }
            if columns.emitEach(ByteScan.matches(first, sepPattern), base: index, start: &start, end: end,
                                &staging) {
                return .stopped
            }
            if columns.emitEach(ByteScan.matches(second, sepPattern), base: index &+ 8, start: &start, end: end,
                                &staging) {
                return .stopped
            }
            index &+= 16
        }
        while index &+ 8 <= end {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if quoting && ByteScan.contains(word, quotePattern) { break }
            if columns.emitEach(ByteScan.matches(word, sepPattern), base: index, start: &start, end: end, &staging) {
                return .stopped
            }
            index &+= 8
        }
        // A word holding a quote, and the line's last bytes: read as the word ending the line, the bytes
        // already read masked off.
        while index < end {
            let base = min(index, end &- 8)
            let word = bytes.loadUnaligned(fromByteOffset: base, as: UInt64.self)
            let fresh = UInt64.max &<< UInt64(truncatingIfNeeded: 8 &* (index &- base))
            let seps = ByteScan.matches(word, sepPattern) & fresh
            let quotes = quoting ? ByteScan.matches(word, quotePattern) & fresh : 0
            if quotes != 0 {
                // Separators after the word's first quote belong to the text after it.
                let before = seps & ((quotes & (0 &- quotes)) &- 1)
                if columns.emitEach(before, base: base, start: &start, end: end, &staging) { return .stopped }
                return .quote(base &+ quotes.trailingZeroBitCount &>> 3)
            }
            if columns.emitEach(seps, base: base, start: &start, end: end, &staging) { return .stopped }
            index = base &+ 8
        }
        return .end
    }

    /// `nextQuote` for a line shorter than a word.
    private func nextQuoteBytewise(_ raw: UnsafeRawBufferPointer, from: Int, end: Int, quote: UInt8?,
                                   start: inout Int, _ columns: inout ColumnSink,
                                   _ staging: inout FieldStaging) -> UnquotedStop {
        var index = from
        while index < end {
            let byte = raw[index]
            if byte == separator[0] {
                if columns.emit(.source(start..<index), rest: start..<end, &staging) { return .stopped }
                start = index + 1
            } else if byte == quote {
                return .quote(index)
            }
            index += 1
        }
        return .end
    }

    /// The quote closing a quoted column whose text starts at `from` (a doubled quote is text and counted
    /// in `doubled`); nil when the line ends first.
    private func closingQuote(_ raw: UnsafeRawBufferPointer, from: Int, end: Int, quote: UInt8,
                              doubled: inout Int) -> Int? {
        var index = from
        while true {
            index = ByteScan.firstOf(quote, quote, in: raw, from: index, end: end)
            guard index < end else { return nil }
            guard index + 1 < end, raw[index + 1] == quote else { return index }
            doubled += 1
            index += 2
        }
    }

    /// The inside of a quoted field, with each doubled quote made single (in the scratch) when there are any.
    private func unquote(_ raw: UnsafeRawBufferPointer, _ inner: Range<Int>, quote: UInt8, doubled: Int,
                         _ staging: inout FieldStaging) -> StagedBytes {
        guard doubled > 0 else { return .source(inner) }
        let mark = staging.mark
        var index = inner.lowerBound
        while index < inner.upperBound {
            staging.append(raw[index])
            index += raw[index] == quote ? 2 : 1
        }
        return staging.written(since: mark)
    }

    /// Names each column as it is found and applies the overflow rule.
    private struct ColumnSink {
        /// The parser's plain-memory tables, copied in: no reference to the parser, so nothing in a split
        /// can count references (see FieldStaging's PlainBuffer).
        private let keys: UnsafeMutableBufferPointer<Int>
        private let surplusKeys: UnsafeMutableBufferPointer<Int>
        private let overflow: Overflow
        private(set) var count = 0

        init(keys: UnsafeMutableBufferPointer<Int>, surplusKeys: UnsafeMutableBufferPointer<Int>, overflow: Overflow) {
            self.keys = keys
            self.surplusKeys = surplusKeys
            self.overflow = overflow
        }

        /// Emits a column ending at each separator flagged in `flags` (a word's high bits, see ByteScan) of
        /// the word at `base`; true when the split should stop.
        @inline(__always)
        mutating func emitEach(_ flags: UInt64, base: Int, start: inout Int, end: Int,
                               _ staging: inout FieldStaging) -> Bool {
            var flags = flags
            while flags != 0 {
                let at = base &+ flags.trailingZeroBitCount &>> 3
                if emit(StagedBytes(place: .source, start: start, count: at &- start), restFrom: start, end: end,
                        &staging) {
                    return true
                }
                start = at &+ 1
                flags &= flags &- 1
            }
            return false
        }

        /// Stages column `count`; returns true when the split should stop (the rest is consumed or ignored).
        /// `rest` is the raw text from this column's start to the end of the line.
        @inline(__always)
        mutating func emit(_ value: StagedBytes, rest: Range<Int>, _ staging: inout FieldStaging) -> Bool {
            emit(value, restFrom: rest.lowerBound, end: rest.upperBound, &staging)
        }

        /// `emit` with the rest given as `restFrom..<end`, built only when it is used.
        @inline(__always)
        mutating func emit(_ value: StagedBytes, restFrom: Int, end: Int, _ staging: inout FieldStaging) -> Bool {
            defer { count &+= 1 }
            if count < keys.count {
                let key = keys[count]
                if key >= 0 { staging.add(.table(key), value) }
                return false
            }
            switch overflow {
            case .discard:
                return true
            case .keep:
                staging.add(surplusKey(count, &staging), .source(restFrom..<end))
                return true
            case .extend:
                staging.add(surplusKey(count, &staging), value)
                return false
            }
        }

        private func surplusKey(_ column: Int, _ staging: inout FieldStaging) -> StagedKey {
            let surplus = column - keys.count
            if surplus < surplusKeys.count { return .table(surplusKeys[surplus]) }
            let mark = staging.mark
            StaticString("__column").withUTF8Buffer { for byte in $0 { staging.append(byte) } }
            appendDecimal(column, &staging)
            staging.append(0x5F)
            staging.append(0x5F)
            return .bytes(staging.written(since: mark))
        }
    }
}

/// Writes a non-negative integer in decimal into the scratch, without allocating.
func appendDecimal(_ value: Int, _ staging: inout FieldStaging) {
    var divisor = 1
    while value / divisor >= 10 { divisor *= 10 }
    while divisor > 0 {
        staging.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
        divisor /= 10
    }
}
