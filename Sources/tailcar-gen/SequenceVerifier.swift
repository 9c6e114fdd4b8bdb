// SequenceVerifier.swift
//
// `--verify`: reads raw record files or a collector's JSON lines, takes the first sequence number of
// each line, and reports which numbers of the expected range are missing and which came more than
// once. Owns line splitting across read chunks and the sequence scanner; does not parse JSON (it
// only skips to the "content" field when a line has one, so other fields cannot be mistaken for it).

import Glibc

struct VerifyReport {
    var text: String
    var isClean: Bool
}

struct SequenceVerifier {
    let options: VerifyOptions
    private var seen: [UInt64] = []
    private var lines = 0
    private var linesWithoutSequence = 0

    init(_ options: VerifyOptions) { self.options = options }

    mutating func run() throws(GeneratorError) -> VerifyReport {
        for path in options.files { try scan(path) }
        seen.sort()
        return report(sorted: seen, lines: lines, linesWithoutSequence: linesWithoutSequence)
    }

    private mutating func scan(_ path: String) throws(GeneratorError) {
        let descriptor = try systemCall("open", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(descriptor) }
        var capacity = 1 << 20
        var storage = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { storage.deallocate() }
        var filled = 0
        while true {
            if filled == capacity {
                let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                larger.update(from: storage, count: filled)
                storage.deallocate()
                storage = larger
                capacity *= 2
            }
            let count = try systemCall("read", path) { read(descriptor, storage + filled, capacity - filled) }
            filled += count
            let consumed = consumeLines(UnsafeBufferPointer(start: storage, count: filled), atEnd: count == 0)
            memmove(storage, storage + consumed, filled - consumed)
            filled -= consumed
            if count == 0 { return }
        }
    }

    /// Handles every complete line (and, at end of file, an unterminated last one); returns bytes used.
    private mutating func consumeLines(_ bytes: UnsafeBufferPointer<UInt8>, atEnd: Bool) -> Int {
        var lineStart = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                consume(UnsafeBufferPointer(rebasing: bytes[lineStart..<index]))
                lineStart = index + 1
            }
            index += 1
        }
        if atEnd, lineStart < bytes.count {
            consume(UnsafeBufferPointer(rebasing: bytes[lineStart...]))
            return bytes.count
        }
        return lineStart
    }

    private mutating func consume(_ line: UnsafeBufferPointer<UInt8>) {
        lines += 1
        let from = Self.find(Array("\"content\":".utf8), in: line) ?? 0
        if let number = Self.firstSequence(in: line, from: from) {
            seen.append(number)
        } else {
            linesWithoutSequence += 1
        }
    }

    /// The number after the first `seq=`, `seq:`, `"seq":`, `\"seq\":` or `"seq":"` at or after `from`.
    static func firstSequence(in line: UnsafeBufferPointer<UInt8>, from: Int) -> UInt64? {
        var index = from
        while index + 3 < line.count {
            defer { index += 1 }
            guard line[index] == UInt8(ascii: "s"), line[index + 1] == UInt8(ascii: "e"),
                  line[index + 2] == UInt8(ascii: "q") else { continue }
            var cursor = skip(quotesIn: line, from: index + 3)
            guard cursor < line.count, line[cursor] == UInt8(ascii: "=") || line[cursor] == UInt8(ascii: ":") else {
                continue
            }
            cursor = skip(quotesIn: line, from: cursor + 1)
            var value: UInt64 = 0
            var digits = 0
            while cursor < line.count, line[cursor] >= 0x30, line[cursor] <= 0x39, digits < 19 {
                value = value * 10 + UInt64(line[cursor] - 0x30)
                cursor += 1
                digits += 1
            }
            if digits > 0 { return value }
        }
        return nil
    }

    private static func skip(quotesIn line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var cursor = start
        while cursor < line.count, line[cursor] == UInt8(ascii: "\"") || line[cursor] == UInt8(ascii: "\\")
            || line[cursor] == UInt8(ascii: " ") { cursor += 1 }
        return cursor
    }

    private static func find(_ needle: [UInt8], in line: UnsafeBufferPointer<UInt8>) -> Int? {
        guard line.count >= needle.count, line.first == UInt8(ascii: "{") else { return nil }
        var index = 0
        while index + needle.count <= line.count {
            if line[index] == needle[0], zip(needle, line[index...]).allSatisfy({ $0 == $1 }) { return index }
            index += 1
        }
        return nil
    }
}
