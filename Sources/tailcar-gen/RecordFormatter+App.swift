// RecordFormatter+App.swift
//
// The application layouts: delimiter-separated fields (`--log-type=delimiter`), Alibaba's Apsara
// format (`--log-type=apsara`) and Java logback lines whose errors carry a multi-line stack trace
// (`--log-type=java`). Each returns where padding goes; see RecordFormatter.swift for the rest.

extension RecordFormatter {
    /// time|level|ip|method|path|status|bytes|latency_ms|seq=N|message, with `--delimiter` between:
    ///
    ///     2026-01-01 00:00:00.001|INFO|10.7.1.20|GET|/login|200|5120|12|seq=000000001|request served k3ZqA9
    mutating func writeDelimiter(_ sequence: UInt64, into buffer: inout RecordBuffer) -> PaddingSlot {
        time.appendPlain(to: &buffer, microseconds: false)
        buffer.append(delimiter)
        buffer.append(vocabulary.levels.pick(&random))
        buffer.append(delimiter)
        appendIP(into: &buffer)
        buffer.append(delimiter)
        buffer.append(vocabulary.methods.pick(&random))
        buffer.append(delimiter)
        buffer.append(vocabulary.paths.pick(&random))
        buffer.append(delimiter)
        let status = vocabulary.statuses.pick(&random)
        buffer.append(status)
        buffer.append(delimiter)
        buffer.appendDecimal(nextResponseBytes(status: status))
        buffer.append(delimiter)
        buffer.appendDecimal(nextLatencyMillis())
        buffer.append(delimiter)
        appendSequenceField(sequence, separator: UInt8(ascii: "="), into: &buffer)
        buffer.append(delimiter)
        buffer.append(vocabulary.messages.pick(&random))
        buffer.append(UInt8(ascii: " "))
        appendToken(into: &buffer)
        let padAt = buffer.count
        buffer.append(UInt8(ascii: "\n"))
        return PaddingSlot(offset: padAt, lineLength: buffer.count)
    }

    /// `[time]\t[level]\t[thread]\t[file:line]\tkey:value...`, microsecond time, tab-separated:
    ///
    ///     [2026-01-01 00:00:00.001000]	[INFO]	[4021]	[/home/admin/app/src/main.cpp:54]	seq:000000001	ip:10.7.1.20	latency_ms:12	msg:request served k3ZqA9
    mutating func writeApsara(_ sequence: UInt64, into buffer: inout RecordBuffer) -> PaddingSlot {
        buffer.append(UInt8(ascii: "["))
        time.appendPlain(to: &buffer, microseconds: true)
        appendKey("]\t[", into: &buffer)
        buffer.append(vocabulary.levels.pick(&random))
        appendKey("]\t[", into: &buffer)
        buffer.appendDecimal(1000 + random.below(60_000))
        appendKey("]\t[", into: &buffer)
        buffer.append(vocabulary.sourceFiles.pick(&random))
        appendKey("]\t", into: &buffer)
        appendSequenceField(sequence, separator: UInt8(ascii: ":"), into: &buffer)
        appendKey("\tip:", into: &buffer)
        appendIP(into: &buffer)
        appendKey("\tlatency_ms:", into: &buffer)
        buffer.appendDecimal(nextLatencyMillis())
        appendKey("\tmsg:", into: &buffer)
        buffer.append(vocabulary.messages.pick(&random))
        buffer.append(UInt8(ascii: " "))
        appendToken(into: &buffer)
        let padAt = buffer.count
        buffer.append(UInt8(ascii: "\n"))
        return PaddingSlot(offset: padAt, lineLength: buffer.count)
    }

    /// A logback line; half the records are ERRORs followed by a stack trace (3 to 10 frames,
    /// sometimes a "Caused by:" section). Every record starts with a date, so the multi-line start
    /// regex is `\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} .*`. `--line-bytes` pads the first line only.
    ///
    ///     2026-01-01 00:00:00.001 ERROR [http-nio-8080-exec-7] c.e.shop.order.OrderService - order created seq=000000001 k3ZqA9
    ///     java.net.SocketTimeoutException: Read timed out
    ///     	at com.example.shop.order.OrderService.place(OrderService.java:142)
    ///     	...
    mutating func writeJava(_ sequence: UInt64, into buffer: inout RecordBuffer) -> PaddingSlot {
        let failed = random.below(2) == 0
        time.appendPlain(to: &buffer, microseconds: false)
        buffer.append(UInt8(ascii: " "))
        if failed { appendKey("ERROR", into: &buffer) } else { buffer.append(vocabulary.levels.pick(&random)) }
        appendKey(" [", into: &buffer)
        buffer.append(vocabulary.threads.pick(&random))
        appendKey("] ", into: &buffer)
        buffer.append(vocabulary.loggers.pick(&random))
        appendKey(" - ", into: &buffer)
        buffer.append(vocabulary.messages.pick(&random))
        buffer.append(UInt8(ascii: " "))
        appendSequenceField(sequence, separator: UInt8(ascii: "="), into: &buffer)
        buffer.append(UInt8(ascii: " "))
        appendToken(into: &buffer)
        let padAt = buffer.count
        buffer.append(UInt8(ascii: "\n"))
        let slot = PaddingSlot(offset: padAt, lineLength: buffer.count)
        if failed { appendStackTrace(into: &buffer) }
        return slot
    }

    private mutating func appendStackTrace(into buffer: inout RecordBuffer) {
        buffer.append(vocabulary.exceptions.pick(&random))
        buffer.append(UInt8(ascii: "\n"))
        appendFrames(count: 3 + random.below(8), into: &buffer)
        if random.below(4) == 0 {
            appendKey("Caused by: ", into: &buffer)
            buffer.append(vocabulary.exceptions.pick(&random))
            buffer.append(UInt8(ascii: "\n"))
            appendFrames(count: 2 + random.below(3), into: &buffer)
            appendKey("\t... ", into: &buffer)
            buffer.appendDecimal(5 + random.below(40))
            appendKey(" more\n", into: &buffer)
        }
    }

    /// `count` consecutive frames (at most the table's size) from a random point of the frame table.
    private mutating func appendFrames(count: Int, into buffer: inout RecordBuffer) {
        let frames = vocabulary.frames.phrases
        let shown = min(count, frames.count)
        let first = random.below(frames.count - shown + 1)
        for index in first..<(first + shown) {
            buffer.append(frames[index])
            buffer.append(UInt8(ascii: "\n"))
        }
    }
}
