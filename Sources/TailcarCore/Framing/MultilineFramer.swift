// MultilineFramer.swift
//
// Joins lines into multi-line records (Logtail `logBeginRegex`, iLogtail `Multiline` custom mode). Lines
// are classified by the configured patterns, each of which must match the whole line (without its "\n"), as
// boost::regex_match does in Logtail and iLogtail:
//
//   start only        a start line opens a record; other lines join the open record
//   start + continue  a start line opens; continue lines join; any other line closes it and stands alone
//   start + end       a start line opens; lines join until an end line, which closes it (included)
//   continue + end    continue lines join; an end line closes the record (included)
//   end only          lines join until an end line, which closes the record (included)
//
// A line outside any record is unmatched: emitted alone (`single_line`) or dropped (`discard`). A record
// that would exceed maxRecordBytes is emitted as it stands and counted. The open record's bytes are kept
// here (joined with "\n") until it closes, the flush timeout passes, or the agent stops; its first byte's
// file offset is where the file's delivered offset must stop meanwhile.

import TailcarRegex

/// Whether a line matches one multi-line pattern: a regex (anchored by the caller) with its capture
/// storage, or any test (hand-built rules, tests).
public final class LinePredicate {
    private let owner: RegexMatcher?
    /// `owner`, called per line without a retain/release pair (`owner` keeps it alive).
    private let engine: Unmanaged<RegexMatcher>?
    private let captures: UnsafeMutableBufferPointer<Int>
    private let test: ((UnsafeRawBufferPointer) -> Bool)?

    public init(regex: CompiledRegex) {
        let matcher = RegexMatcher(regex)
        owner = matcher
        engine = Unmanaged.passUnretained(matcher)
        captures = .allocate(capacity: max(1, regex.captureSlots))
        captures.initialize(repeating: -1)
        test = nil
    }

    public init(_ test: @escaping (UnsafeRawBufferPointer) -> Bool) {
        owner = nil
        engine = nil
        captures = .allocate(capacity: 1)
        self.test = test
    }

    deinit { captures.deallocate() }

    public func matches(_ line: UnsafeRawBufferPointer) -> Bool {
        if let engine {
            return engine._withUnsafeGuaranteedRef { $0.search(line, captures: captures) } == .matched
        }
        return test!(line)
    }
}

public struct MultilineRules {
    public typealias Matcher = LinePredicate

    public var start: Matcher?
    public var continuation: Matcher?
    public var end: Matcher?
    /// Drop unmatched lines instead of emitting each as its own record.
    public var discardUnmatched: Bool
    public var maxRecordBytes: Int

    public init(start: Matcher?, continuation: Matcher?, end: Matcher?, discardUnmatched: Bool = false,
                maxRecordBytes: Int = 512 * 1024) {
        self.start = start
        self.continuation = continuation
        self.end = end
        self.discardUnmatched = discardUnmatched
        self.maxRecordBytes = maxRecordBytes
    }
}

public struct MultilineFramer {
    public enum Output { case record, unmatched, oversized }

    /// Owns the predicates. The per-line path calls them through these unmanaged references, which
    /// cost no retain and release per line (the rules keep the objects alive as long as the framer).
    public let rules: MultilineRules
    private let start: Unmanaged<LinePredicate>?
    private let continuation: Unmanaged<LinePredicate>?
    private let end: Unmanaged<LinePredicate>?
    /// Copies of the rules' plain settings: reading them through `rules` would copy the struct (and retain
    /// its three references) on every line.
    private let maxRecordBytes: Int
    private let discardUnmatched: Bool
    private var pending: [UInt8] = []
    private var isOpen = false
    /// File offset of the open record's first byte.
    public private(set) var pendingStart: UInt64?
    /// Lines outside any record: emitted alone, or dropped when `discardUnmatched`.
    public private(set) var unmatchedLines = 0
    /// Unmatched lines dropped (`discardUnmatched`); never emitted.
    public private(set) var discardedLines = 0
    /// Records cut at maxRecordBytes.
    public private(set) var oversizedRecords = 0

    public init(rules: MultilineRules) {
        self.rules = rules
        start = rules.start.map { Unmanaged.passUnretained($0) }
        continuation = rules.continuation.map { Unmanaged.passUnretained($0) }
        end = rules.end.map { Unmanaged.passUnretained($0) }
        maxRecordBytes = rules.maxRecordBytes
        discardUnmatched = rules.discardUnmatched
        pending.reserveCapacity(4096)
    }

    public var hasPending: Bool { isOpen }

    /// Feeds one line (without its terminator) that starts at file offset `offset`.
    public mutating func feed(_ line: UnsafeRawBufferPointer, at offset: UInt64,
                              _ emit: (UnsafeRawBufferPointer, Output) -> Void) {
        let isStart = Self.test(start, line)
        if start != nil {
            if isStart {
                flush(emit)
                open(line, at: offset)
                closeIfEnd(line, emit)
                return
            }
            guard isOpen else { return unmatched(line, emit) }
            if continuation != nil, !Self.test(continuation, line), end == nil {
                flush(emit)
                return unmatched(line, emit)
            }
            append(line, at: offset, emit)
            closeIfEnd(line, emit)
            return
        }
        // No start pattern: records are runs ended by an end line (continue lines only, if given).
        let isEnd = Self.test(end, line)
        if !isOpen, !isEnd, continuation != nil, !Self.test(continuation, line) {
            return unmatched(line, emit)
        }
        if isOpen { append(line, at: offset, emit) } else { open(line, at: offset) }
        if isEnd { flush(emit) }
    }

    /// Emits the open record as it stands (flush timeout, rotation end, stop).
    public mutating func flush(_ emit: (UnsafeRawBufferPointer, Output) -> Void) {
        guard isOpen else { return }
        pending.withUnsafeBytes { emit($0, .record) }
        pending.removeAll(keepingCapacity: true)
        isOpen = false
        pendingStart = nil
    }

    /// Forgets the open record (the file restarted at 0).
    /// Hands over the counts so far and starts them again from zero (a tailer restarted under a new key, or
    /// gone, has its counts kept by its pipeline).
    public mutating func takeCounts() -> (unmatchedLines: Int, oversizedRecords: Int) {
        defer {
            unmatchedLines = 0
            discardedLines = 0
            oversizedRecords = 0
        }
        return (unmatchedLines, oversizedRecords)
    }

    public mutating func reset() {
        pending.removeAll(keepingCapacity: true)
        isOpen = false
        pendingStart = nil
    }

    private mutating func open(_ line: UnsafeRawBufferPointer, at offset: UInt64) {
        pending.append(contentsOf: line)
        isOpen = true
        pendingStart = offset
    }

    private mutating func append(_ line: UnsafeRawBufferPointer, at offset: UInt64,
                                 _ emit: (UnsafeRawBufferPointer, Output) -> Void) {
        if pending.count + 1 + line.count > maxRecordBytes {
            oversizedRecords += 1
            pending.withUnsafeBytes { emit($0, .oversized) }
            pending.removeAll(keepingCapacity: true)
            pending.append(contentsOf: line)
            pendingStart = offset
            return
        }
        pending.append(0x0A)
        pending.append(contentsOf: line)
    }

    private mutating func closeIfEnd(_ line: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer, Output) -> Void) {
        if Self.test(end, line) { flush(emit) }
    }

    private mutating func unmatched(_ line: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer, Output) -> Void) {
        unmatchedLines += 1
        if discardUnmatched {
            discardedLines += 1
        } else {
            emit(line, .unmatched)
        }
    }

    /// False without a predicate.
    @inline(__always)
    private static func test(_ predicate: Unmanaged<LinePredicate>?, _ line: UnsafeRawBufferPointer) -> Bool {
        guard let predicate else { return false }
        return predicate._withUnsafeGuaranteedRef { $0.matches(line) }
    }
}
