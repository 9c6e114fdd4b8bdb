// Oracle tests: the memchr splitter, fed in chunks of many sizes the way the reader feeds it, must produce
// exactly what an obviously correct byte-at-a-time splitter produces over the whole input.
import Testing
@testable import TailcarCore

struct SplitLine: Equatable, CustomStringConvertible {
    var bytes: [UInt8]
    var end: LineEnd
    var description: String { "\(end):\(String(decoding: bytes, as: UTF8.self).debugDescription)" }
}

/// The obviously correct splitter: whole input, one byte at a time.
func oracleSplit(_ input: [UInt8], maxLineBytes: Int) -> [SplitLine] {
    var lines: [SplitLine] = []
    var raw: [UInt8] = []
    func emitPieces() {
        while raw.count > maxLineBytes {
            lines.append(SplitLine(bytes: Array(raw.prefix(maxLineBytes)), end: .split))
            raw.removeFirst(maxLineBytes)
        }
    }
    for byte in input {
        if byte == 0x0A {
            emitPieces()
            if raw.last == 0x0D { raw.removeLast() }
            lines.append(SplitLine(bytes: raw, end: .newline))
            raw = []
        } else {
            raw.append(byte)
        }
    }
    emitPieces()
    if !raw.isEmpty { lines.append(SplitLine(bytes: raw, end: .unterminated)) }
    return lines
}

/// The reader's way: append a chunk, split, carry the tail to the front, tell the splitter.
func chunkedSplit(_ input: [UInt8], maxLineBytes: Int, chunkSizes: [Int]) -> [SplitLine] {
    var splitter = LineSplitter(maxLineBytes: maxLineBytes)
    var buffer: [UInt8] = []
    var lines: [SplitLine] = []
    var offset = 0
    var turn = 0
    while offset < input.count {
        let size = min(chunkSizes[turn % chunkSizes.count], input.count - offset)
        turn += 1
        buffer.append(contentsOf: input[offset..<offset + size])
        offset += size
        let consumed = buffer.withUnsafeBytes { window in
            splitter.split(window) { range, end in
                lines.append(SplitLine(bytes: Array(window[range]), end: end))
            }
        }
        buffer.removeFirst(consumed)
        splitter.didConsume(consumed)
    }
    _ = buffer.withUnsafeBytes { window in
        splitter.flushRemainder(window) { range, end in lines.append(SplitLine(bytes: Array(window[range]), end: end)) }
    }
    return lines
}

func randomLogBytes(seed: UInt64, count: Int, maxLineBytes: Int) -> [UInt8] {
    var random = SeededGenerator(seed: seed)
    var bytes: [UInt8] = []
    while bytes.count < count {
        switch random.below(10) {
        case 0: bytes.append(contentsOf: [0x0D, 0x0A])                         // CRLF
        case 1: bytes.append(0x0A)                                             // empty line
        case 2: bytes.append(contentsOf: (0..<(maxLineBytes + random.below(3 * maxLineBytes)))
                    .map { _ in UInt8(0x61 + random.below(26)) })             // oversized line
        case 3: bytes.append(contentsOf: [0x00, 0xFF, 0xC3, 0x0D, 0x80])       // NUL, invalid UTF-8, lone CR
        default:
            bytes.append(contentsOf: (0..<random.below(maxLineBytes)).map { _ in UInt8(0x20 + random.below(90)) })
            bytes.append(0x0A)
        }
    }
    return bytes
}

@Suite("LineSplitter")
struct LineSplitterTests {
    @Test("chunked splitting equals the byte-at-a-time oracle for every chunk size",
          arguments: [[1], [2], [3], [7], [64], [4096], [1, 5, 100, 3, 999]] as [[Int]])
    func oracleAgreement(chunkSizes: [Int]) {
        for seed in 1...12 as ClosedRange<UInt64> {
            let max = [1, 5, 16, 80][Int(seed % 4)]
            let input = randomLogBytes(seed: seed, count: 6_000, maxLineBytes: max)
            #expect(chunkedSplit(input, maxLineBytes: max, chunkSizes: chunkSizes)
                    == oracleSplit(input, maxLineBytes: max), "seed \(seed), max \(max)")
        }
    }

    @Test("random chunkings agree with the oracle")
    func randomChunkings() {
        var random = SeededGenerator(seed: 99)
        for seed in 100...140 as ClosedRange<UInt64> {
            let max = 1 + random.below(200)
            let input = randomLogBytes(seed: seed, count: 20_000, maxLineBytes: max)
            let sizes = (0..<16).map { _ in 1 + random.below(3 * max + 10) }
            #expect(chunkedSplit(input, maxLineBytes: max, chunkSizes: sizes) == oracleSplit(input, maxLineBytes: max))
        }
    }

    @Test("CRLF is stripped, a lone CR kept, and the tail waits for its newline")
    func examples() {
        var splitter = LineSplitter(maxLineBytes: 100)
        var lines: [SplitLine] = []
        let input = Array("GET /a\r\nGET /b\rc\nGET /c".utf8)
        let consumed = input.withUnsafeBytes { window in
            splitter.split(window) { range, end in lines.append(SplitLine(bytes: Array(window[range]), end: end)) }
        }
        #expect(lines == [SplitLine(bytes: Array("GET /a".utf8), end: .newline),
                          SplitLine(bytes: Array("GET /b\rc".utf8), end: .newline)])
        #expect(consumed == 17)
    }

    @Test("a line longer than the limit arrives in exact pieces, none lost")
    func oversizedLine() {
        let line = [UInt8](repeating: 0x78, count: 10 * 1024 + 7) + [0x0A]
        let lines = chunkedSplit(line, maxLineBytes: 1024, chunkSizes: [4096])
        #expect(lines.count == 11)
        #expect(lines.dropLast().allSatisfy { $0.end == .split && $0.bytes.count == 1024 })
        #expect(lines.last == SplitLine(bytes: [UInt8](repeating: 0x78, count: 7), end: .newline))
    }
}
