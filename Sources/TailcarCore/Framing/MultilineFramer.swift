// MultilineFramer.swift
//
// Joins lines into multi-line records (Logtail `logBeginRegex`, iLogtail `Multiline` custom mode). Lines
// are classified by the configured patterns (anchored at the line start, prefix match):
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

public struct MultilineRules {
    public typealias Matcher = (UnsafeRawBufferPointer) -> Bool

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

    public let rules: MultilineRules
    private var pending: [UInt8] = []
    private var isOpen = false
    /// File offset of the open record's first byte.
    public private(set) var pendingStart: UInt64?
    public private(set) var unmatchedLines = 0
    public private(set) var oversizedRecords = 0

    public init(rules: MultilineRules) {
        self.rules = rules
        pending.reserveCapacity(4096)
    }

    public var hasPending: Bool { isOpen }

    /// Feeds one line (without its terminator) that starts at file offset `offset`.
    public mutating func feed(_ line: UnsafeRawBufferPointer, at offset: UInt64,
                              _ emit: (UnsafeRawBufferPointer, Output) -> Void) {
        let isStart = rules.start?(line) ?? false
        if let _ = rules.start {
            if isStart {
                flush(emit)
                open(line, at: offset)
                closeIfEnd(line, emit)
                return
            }
            guard isOpen else { return unmatched(line, emit) }
            if let continuation = rules.continuation, !continuation(line), rules.end == nil {
                flush(emit)
                return unmatched(line, emit)
            }
            append(line, at: offset, emit)
            closeIfEnd(line, emit)
            return
        }
        // No start pattern: records are runs ended by an end line (continue lines only, if given).
        let isEnd = rules.end?(line) ?? false
        if !isOpen, !isEnd, let continuation = rules.continuation, !continuation(line) {
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
        if pending.count + 1 + line.count > rules.maxRecordBytes {
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
        if let end = rules.end, end(line) { flush(emit) }
    }

    private mutating func unmatched(_ line: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer, Output) -> Void) {
        unmatchedLines += 1
        if !rules.discardUnmatched { emit(line, .unmatched) }
    }
}
