// LineSplitter.swift
//
// Finds complete '\n'-terminated lines in the readable window of a tail buffer without copying them.
// Owns the resume cursor and the oversized-line policy; does not own reading or multi-line merging.
//
//   window  "GET /a\r\nGET /b\nGET /c"      (the reader's buffer, unconsumed bytes from index 0)
//   lines   0..<6 .newline, 8..<14 .newline
//   returns 15: "GET /c" is the incomplete tail the reader carries; the next call resumes the newline
//   search at the carried bytes' end instead of rescanning them.
//
// A run of more than maxLineBytes bytes without a newline is emitted in pieces of exactly maxLineBytes
// (`.split`); the piece that finally ends at a newline is `.newline`. The search is glibc memchr.

import Glibc

public enum LineEnd: Sendable, Equatable {
    /// Ended by "\n"; a "\r" before it is stripped too.
    case newline
    /// A piece of a line longer than maxLineBytes.
    case split
    /// The last bytes, sent without a newline (flush timeout, rotation end, stop).
    case unterminated
}

public struct LineSplitter: Sendable {
    public let maxLineBytes: Int
    /// Window index before which the current window holds no newline past the last line returned.
    private var searched = 0

    public init(maxLineBytes: Int) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
    }

    /// Calls `onLine` for each complete line in `window` and returns how many bytes from the window start
    /// are consumed: the start of the incomplete tail.
    public mutating func split(_ window: UnsafeRawBufferPointer, _ onLine: (Range<Int>, LineEnd) -> Void) -> Int {
        guard let base = window.baseAddress else { return 0 }
        let count = window.count
        var start = 0
        var position = min(searched, count)
        while position < count, let hit = memchr(base + position, 0x0A, count - position) {
            let newline = UnsafeRawPointer(hit) - base
            start = emitPieces(from: start, before: newline, onLine)
            var end = newline
            if end > start, window[end - 1] == 0x0D { end -= 1 }
            onLine(start..<end, .newline)
            start = newline + 1
            position = start
        }
        start = emitPieces(from: start, before: count, onLine)
        searched = count
        return start
    }

    /// The caller shifted the unconsumed tail to the window start after consuming `count` bytes.
    public mutating func didConsume(_ count: Int) {
        searched = max(0, searched - count)
    }

    /// Emits window[0..<count] as one `.unterminated` line (after `.split` pieces if it is too long) unless
    /// empty. Returns the bytes consumed: all of them.
    public mutating func flushRemainder(_ window: UnsafeRawBufferPointer,
                                        _ onLine: (Range<Int>, LineEnd) -> Void) -> Int {
        let start = emitPieces(from: 0, before: window.count, onLine)
        if start < window.count { onLine(start..<window.count, .unterminated) }
        searched = 0
        return window.count
    }

    public mutating func reset() { searched = 0 }

    /// Emits `.split` pieces while more than maxLineBytes bytes remain before `end`; returns the new start.
    private func emitPieces(from start: Int, before end: Int, _ onLine: (Range<Int>, LineEnd) -> Void) -> Int {
        var start = start
        while end - start > maxLineBytes {
            onLine(start..<(start + maxLineBytes), .split)
            start += maxLineBytes
        }
        return start
    }
}
