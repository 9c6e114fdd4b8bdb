// RecordFormatter.swift
//
// Turns (sequence number, timestamp) into one record of the chosen log type, appended to a
// RecordBuffer, then pads its first line toward `--line-bytes` by inserting seeded filler inside a
// free-text field. Owns the shared pieces (IPs, tokens, latencies, padding); the layouts live in
// RecordFormatter+Web.swift (nginx, JSON) and RecordFormatter+App.swift (delimiter, apsara, java).

/// Where a layout left room for padding, and how long the line being padded is so far.
struct PaddingSlot {
    var offset: Int
    var lineLength: Int
}

struct RecordFormatter: ~Copyable {
    let logType: LogType
    let vocabulary: Vocabulary
    var time = TimestampRenderer()
    let lineBytes: Int
    let delimiter: UInt8
    var random: SeededRandom

    /// The largest record any layout writes before padding, plus the largest padding.
    var maximumRecordBytes: Int { 16 * 1024 + lineBytes }

    init(logType: LogType, seed: UInt64, lineBytes: Int, delimiter: UInt8) {
        self.logType = logType
        vocabulary = Vocabulary(seed: seed)
        self.lineBytes = lineBytes
        self.delimiter = delimiter
        random = SeededRandom(seed: seed)
    }

    deinit { time.release() }

    /// Appends one whole record, ending in "\n". The caller checked `hasRoom(for: maximumRecordBytes)`.
    @inline(__always)
    mutating func write(sequence: UInt64, micros: Int64, into buffer: inout RecordBuffer) {
        time.set(micros: micros)
        let start = buffer.count
        let slot: PaddingSlot
        switch logType {
        case .nginx: slot = writeNginxSeed(sequence, into: &buffer)
        case .nginxMain: slot = writeNginxMain(sequence, into: &buffer)
        case .json: slot = writeJSON(sequence, into: &buffer)
        case .delimiter: slot = writeDelimiter(sequence, into: &buffer)
        case .apsara: slot = writeApsara(sequence, into: &buffer)
        case .java: slot = writeJava(sequence, into: &buffer)
        }
        if slot.lineLength - start < lineBytes {
            let size = lineBytes - (slot.lineLength - start)
            let from = random.below(Vocabulary.fillerSize - size)
            buffer.insert(vocabulary.filler.start + from, count: size, at: slot.offset)
        }
    }

    /// A plausible client address: private ranges and public ones, e.g. "10.23.4.201", "203.0.113.9".
    @inline(__always)
    mutating func appendIP(into buffer: inout RecordBuffer) {
        let bits = random.next()
        let octets = (Int(bits >> 8 & 0xFF), Int(bits >> 16 & 0xFF), Int(bits >> 24 & 0xFE) + 1)
        switch bits & 3 {
        case 0:
            buffer.append(UInt8(ascii: "1")); buffer.append(UInt8(ascii: "0"))
        case 1:
            buffer.appendDecimal(172); buffer.append(UInt8(ascii: ".")); buffer.appendDecimal(16 + Int(bits >> 32 & 15))
        case 2:
            buffer.appendDecimal(192); buffer.append(UInt8(ascii: ".")); buffer.appendDecimal(168)
        default:
            buffer.appendDecimal(1 + Int(bits >> 40 % 223))
        }
        if bits & 3 == 0 || bits & 3 == 3 {
            buffer.append(UInt8(ascii: ".")); buffer.appendDecimal(octets.0)
        }
        buffer.append(UInt8(ascii: ".")); buffer.appendDecimal(octets.1)
        buffer.append(UInt8(ascii: ".")); buffer.appendDecimal(octets.2)
    }

    /// Six letters or digits from one random draw: "k3ZqA9".
    @inline(__always)
    mutating func appendToken(into buffer: inout RecordBuffer) {
        let bits = random.next()
        let letters = vocabulary.alphanumerics
        for index in 0..<6 {
            buffer.append(letters.start[Int(bits >> UInt64(index * 10) & 1023) % letters.count])
        }
    }

    /// A latency in milliseconds, mostly small with a long tail: 1 ... 4095.
    @inline(__always)
    mutating func nextLatencyMillis() -> Int {
        let bits = random.next()
        return 1 + Int(bits & ((1 << (bits >> 60 & 7 + 5)) - 1))
    }

    /// A response size in bytes; 0 for 204 and 304.
    @inline(__always)
    mutating func nextResponseBytes(status: Phrase) -> Int {
        if status.start[0] == UInt8(ascii: "2"), status.start[2] == UInt8(ascii: "4") { return 0 }
        if status.start[0] == UInt8(ascii: "3"), status.start[2] == UInt8(ascii: "4") { return 0 }
        let bits = random.next()
        return 64 + Int(bits & ((1 << (bits >> 59 & 15 + 1)) - 1))
    }

    /// "0.012" from 12 ms.
    @inline(__always)
    func appendSeconds(millis: Int, into buffer: inout RecordBuffer) {
        buffer.appendDecimal(millis / 1000)
        buffer.append(UInt8(ascii: "."))
        buffer.appendDecimal(millis % 1000, width: 3)
    }

    /// "seq=000000123" (nine digits, more when the number needs them).
    @inline(__always)
    func appendSequenceField(_ sequence: UInt64, separator: UInt8, into buffer: inout RecordBuffer) {
        buffer.append(UInt8(ascii: "s")); buffer.append(UInt8(ascii: "e")); buffer.append(UInt8(ascii: "q"))
        buffer.append(separator)
        buffer.appendDecimal(sequence, width: 9)
    }
}
