// RecordFormatter+Web.swift
//
// The web-server layouts: nginx as the Logtail sidecar demo's regex expects it (`--log-type=nginx`),
// nginx's standard `main` format (`--log-type=nginx-main`), and one JSON object per line
// (`--log-type=json`). Each returns where padding goes; see RecordFormatter.swift for the rest.

extension RecordFormatter {
    /// Matches the seed regex `(\S+)\s(\S+)\s\S+\s\S+\s"(\S+)\s(\S+)\s+([^"]+)"\s+(\S+)\s(\S+)\s(\d+)\s(\d+)\s(\S+)\s"([^"]+)"\s.*`
    /// (time, ip, -, -, "method url protocol", latency, payload, status, size, referer, "agent", rest):
    ///
    ///     2026-01-01T00:00:00.001+08:00 10.7.1.20 - - "GET /api/v1/orders?id=4821&sid=k3ZqA9 HTTP/1.1" 0.012 734 200 5120 "-" "curl/8.5.0" seq=000000001
    mutating func writeNginxSeed(_ sequence: UInt64, into buffer: inout RecordBuffer) -> PaddingSlot {
        time.appendISO(to: &buffer)
        buffer.append(UInt8(ascii: " "))
        appendIP(into: &buffer)
        appendDashes(into: &buffer)
        let padAt = appendRequest(into: &buffer)
        buffer.append(UInt8(ascii: " "))
        appendSeconds(millis: nextLatencyMillis(), into: &buffer)
        buffer.append(UInt8(ascii: " "))
        buffer.appendDecimal(80 + random.below(1900))
        buffer.append(UInt8(ascii: " "))
        let status = vocabulary.statuses.pick(&random)
        buffer.append(status)
        buffer.append(UInt8(ascii: " "))
        buffer.appendDecimal(nextResponseBytes(status: status))
        buffer.append(UInt8(ascii: " "))
        buffer.append(vocabulary.referers.pick(&random))
        appendQuotedAgent(into: &buffer)
        buffer.append(UInt8(ascii: " "))
        appendSequenceField(sequence, separator: UInt8(ascii: "="), into: &buffer)
        buffer.append(UInt8(ascii: "\n"))
        return PaddingSlot(offset: padAt, lineLength: buffer.count)
    }

    /// nginx `main`: `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
    /// "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`, the sequence inside the query string:
    ///
    ///     10.7.1.20 - - [01/Jan/2026:00:00:00 +0800] "GET /login?id=77&sid=k3ZqA9&seq=000000001 HTTP/1.1" 200 5120 "-" "curl/8.5.0" "-"
    mutating func writeNginxMain(_ sequence: UInt64, into buffer: inout RecordBuffer) -> PaddingSlot {
        appendIP(into: &buffer)
        appendDashes(into: &buffer)
        buffer.append(UInt8(ascii: "["))
        time.appendNginxLocal(to: &buffer)
        buffer.append(UInt8(ascii: "]"))
        buffer.append(UInt8(ascii: " "))
        buffer.append(UInt8(ascii: "\""))
        buffer.append(vocabulary.methods.pick(&random))
        buffer.append(UInt8(ascii: " "))
        let padAt = appendPathAndQuery(into: &buffer)
        buffer.append(UInt8(ascii: "&"))
        appendSequenceField(sequence, separator: UInt8(ascii: "="), into: &buffer)
        buffer.append(UInt8(ascii: " "))
        buffer.append(vocabulary.protocols.pick(&random))
        buffer.append(UInt8(ascii: "\""))
        buffer.append(UInt8(ascii: " "))
        let status = vocabulary.statuses.pick(&random)
        buffer.append(status)
        buffer.append(UInt8(ascii: " "))
        buffer.appendDecimal(nextResponseBytes(status: status))
        buffer.append(UInt8(ascii: " "))
        buffer.append(vocabulary.referers.pick(&random))
        appendQuotedAgent(into: &buffer)
        buffer.append(UInt8(ascii: " ")); buffer.append(UInt8(ascii: "\"")); buffer.append(UInt8(ascii: "-"))
        buffer.append(UInt8(ascii: "\"")); buffer.append(UInt8(ascii: "\n"))
        return PaddingSlot(offset: padAt, lineLength: buffer.count)
    }

    /// One object per line, keys in a fixed order, the sequence as a number:
    ///
    ///     {"time":"2026-01-01T00:00:00.001+08:00","level":"INFO","ip":"10.7.1.20","method":"GET","url":"/login",
    ///      "status":200,"latency_ms":12,"bytes":5120,"user_agent":"curl/8.5.0","msg":"request served k3ZqA9","seq":1}
    mutating func writeJSON(_ sequence: UInt64, into buffer: inout RecordBuffer) -> PaddingSlot {
        appendKey("{\"time\":\"", into: &buffer)
        time.appendISO(to: &buffer)
        appendKey("\",\"level\":\"", into: &buffer)
        buffer.append(vocabulary.levels.pick(&random))
        appendKey("\",\"ip\":\"", into: &buffer)
        appendIP(into: &buffer)
        appendKey("\",\"method\":\"", into: &buffer)
        buffer.append(vocabulary.methods.pick(&random))
        appendKey("\",\"url\":\"", into: &buffer)
        buffer.append(vocabulary.paths.pick(&random))
        appendKey("\",\"status\":", into: &buffer)
        let status = vocabulary.statuses.pick(&random)
        buffer.append(status)
        appendKey(",\"latency_ms\":", into: &buffer)
        buffer.appendDecimal(nextLatencyMillis())
        appendKey(",\"bytes\":", into: &buffer)
        buffer.appendDecimal(nextResponseBytes(status: status))
        appendKey(",\"user_agent\":\"", into: &buffer)
        buffer.append(vocabulary.userAgents.pick(&random))
        appendKey("\",\"msg\":\"", into: &buffer)
        buffer.append(vocabulary.messages.pick(&random))
        buffer.append(UInt8(ascii: " "))
        appendToken(into: &buffer)
        let padAt = buffer.count
        appendKey("\",\"seq\":", into: &buffer)
        buffer.appendDecimal(sequence)
        buffer.append(UInt8(ascii: "}"))
        buffer.append(UInt8(ascii: "\n"))
        return PaddingSlot(offset: padAt, lineLength: buffer.count)
    }

    /// " - - " between the address and the next field.
    @inline(__always)
    private func appendDashes(into buffer: inout RecordBuffer) {
        buffer.append(UInt8(ascii: " ")); buffer.append(UInt8(ascii: "-")); buffer.append(UInt8(ascii: " "))
        buffer.append(UInt8(ascii: "-")); buffer.append(UInt8(ascii: " "))
    }

    /// "\"GET /path?id=N&sid=TOKEN HTTP/1.1\""; returns the offset just after TOKEN, where padding goes.
    @inline(__always)
    private mutating func appendRequest(into buffer: inout RecordBuffer) -> Int {
        buffer.append(UInt8(ascii: "\""))
        buffer.append(vocabulary.methods.pick(&random))
        buffer.append(UInt8(ascii: " "))
        let padAt = appendPathAndQuery(into: &buffer)
        buffer.append(UInt8(ascii: " "))
        buffer.append(vocabulary.protocols.pick(&random))
        buffer.append(UInt8(ascii: "\""))
        return padAt
    }

    /// "/path?id=N&sid=TOKEN"; returns the offset just after TOKEN.
    @inline(__always)
    private mutating func appendPathAndQuery(into buffer: inout RecordBuffer) -> Int {
        buffer.append(vocabulary.paths.pick(&random))
        appendKey("?id=", into: &buffer)
        buffer.appendDecimal(random.below(100_000))
        appendKey("&sid=", into: &buffer)
        appendToken(into: &buffer)
        return buffer.count
    }

    @inline(__always)
    private mutating func appendQuotedAgent(into buffer: inout RecordBuffer) {
        buffer.append(UInt8(ascii: " "))
        buffer.append(UInt8(ascii: "\""))
        buffer.append(vocabulary.userAgents.pick(&random))
        buffer.append(UInt8(ascii: "\""))
    }

    /// Appends a short ASCII literal. `StaticString` keeps it in read-only data, no allocation.
    @inline(__always)
    func appendKey(_ literal: StaticString, into buffer: inout RecordBuffer) {
        buffer.append(literal.utf8Start, count: literal.utf8CodeUnitCount)
    }
}
