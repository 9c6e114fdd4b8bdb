// ParserFuzzTarget.swift
//
// libFuzzer target for the parsers that see application log lines: JSON (json_log) and delimiter
// (delimiter_log, with the separator and quote chosen by the input's first two bytes). Each input is one
// line run through the parser the way the runtime does; every outcome must be a parsed or an unmatched
// record whose fields lie inside the group's bytes. Built by Tests/fuzz/run-core-fuzz.sh.
@testable import TailcarCore

private let separators = [",", "|", "\\t", ";", "::", " ", "\u{1}", "ab|"]

@_cdecl("LLVMFuzzerTestOneInput")
public func parserFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 2 else { return 0 }
    let line = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let table = KeyTable()
    let policy = SourcePolicy.logtail(discardUnmatch: data[0] & 0x80 != 0, keys: table)
    let processor: any EventProcessor
    if data[0] & 1 == 0 {
        processor = JSONParser(table: table, policy: policy)
    } else {
        let separator = separators[Int(data[0] >> 1) % separators.count]
        let quote: UInt8? = data[1] == 0 ? nil : data[1]
        let overflow: DelimiterParser.Overflow = data[0] & 0x40 != 0 ? .discard : .extend
        do {
            processor = try DelimiterParser(table: table, separator: separator, quote: quote, keys: ["a", "b", "c"],
                                            allowingShortenedFields: data[0] & 0x20 != 0, overflow: overflow,
                                            policy: policy)
        } catch {
            return 0
        }
    }
    let group = EventGroup(keys: table)
    let range = group.beginRecord(raw: line, seconds: 1, nanoseconds: 0)
    group.addField(key: .table(table.content), value: range)
    if case .drop = processor.process(group) {
        group.abandonRecord()
        return 0
    }
    group.commitRecord()
    for record in group.records {
        for index in record.fields {
            let field = group.fields[index]
            group.withBytes(field.value) { bytes in
                if bytes.count > line.count * 2 + 64 { fatalError("a field of \(bytes.count) bytes from a \(line.count)-byte line") }
            }
        }
    }
    return 0
}
