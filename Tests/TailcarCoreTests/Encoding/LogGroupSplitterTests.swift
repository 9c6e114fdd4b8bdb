// Tests of LogGroupSplitter: the halves of an encoded LogGroup are byte for byte what encoding each half's
// records alone gives, and a body that is not a LogGroup of the expected size is refused with the reason.
import Testing
@testable import TailcarCore

@Suite("LogGroupSplitter")
struct LogGroupSplitterTests {
    let meta = LogGroupMeta(topic: "web", source: "10.0.0.9", tags: [(key: "__path__", value: "/var/log/a.log"),
                                                                       (key: "pod", value: "p-1")])

    func encoded(_ slices: [RecordSlice]) -> [UInt8] {
        var encoder = LogGroupEncoder(initialCapacity: 0, includeNanoseconds: true)
        _ = encoder.encode(slices: slices, meta: meta)
        return encoder.withEncoded { Array($0) }
    }

    @Test("each half holds its logs in order and every topic, source and tag field", arguments: [1, 2, 4])
    func halves(firstLogs: Int) throws {
        let group = makeGroup((0..<5).map { (1_795_744_200 + UInt32($0), UInt32($0), [("content", "line \($0)"),
                                                                                     ("status", "20\($0)")]) })
        let whole = encoded([RecordSlice(group: group, records: 0..<5)])
        let (first, second) = try whole.withUnsafeBytes {
            try LogGroupSplitter.split($0, firstLogs: firstLogs, totalLogs: 5)
        }
        #expect(first == encoded([RecordSlice(group: group, records: 0..<firstLogs)]))
        #expect(second == encoded([RecordSlice(group: group, records: firstLogs..<5)]))
    }

    @Test("a body with another number of logs, cut short, or of an unknown wire type is refused")
    func malformed() {
        let group = makeGroup((0..<3).map { (1_795_744_200, 0, [("content", "line \($0)")]) })
        let whole = encoded([RecordSlice(group: group, records: 0..<3)])
        #expect(throws: LogGroupSplitError.logCount(expected: 4, found: 3)) {
            try whole.withUnsafeBytes { try LogGroupSplitter.split($0, firstLogs: 2, totalLogs: 4) }
        }
        let cut = Array(whole.dropLast(3))
        #expect(throws: LogGroupSplitError.self) {
            try cut.withUnsafeBytes { try LogGroupSplitter.split($0, firstLogs: 1, totalLogs: 3) }
        }
        let groupWireType: [UInt8] = [0x0B, 0x00]
        #expect(throws: LogGroupSplitError.unsupportedWireType(3, offset: 0)) {
            try groupWireType.withUnsafeBytes { try LogGroupSplitter.split($0, firstLogs: 0, totalLogs: 0) }
        }
        let endlessVarint: [UInt8] = [0x08] + Array(repeating: 0xFF, count: 11)
        #expect(throws: LogGroupSplitError.truncated(offset: 1)) {
            try endlessVarint.withUnsafeBytes { try LogGroupSplitter.split($0, firstLogs: 0, totalLogs: 0) }
        }
    }
}
