// WatchFuzzTarget.swift
//
// libFuzzer target for what the Kubernetes API sends the controller on a watch: the input's first byte
// chooses a chunk size, the rest is fed to WatchStreamDecoder in chunks of that size as the socket would
// deliver them, then the connection "closes". Every event line is read as JSON and, when it carries an
// object, taken as an AliyunLogConfig the way the controller does (identity, the plan with its defaults,
// the vendor logstore settings). Garbage must end in a typed error or an unusable resource, never a crash,
// a hang or unbounded memory. Built by Tests/fuzz/run-core-fuzz.sh.
@testable import TailcarCore

private let defaults = ControllerDefaults(project: "p", machineGroup: "g", endpoint: "http://127.0.0.1:9")

@_cdecl("LLVMFuzzerTestOneInput")
public func watchFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let chunk = Int(data[0]) + 1
    let stream = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    var decoder = WatchStreamDecoder(maxLineBytes: 64 * 1024)
    var lines: [[UInt8]] = []
    var offset = 0
    do {
        while offset < stream.count, !decoder.isFinished {
            let end = min(offset + chunk, stream.count)
            try decoder.feed(UnsafeRawBufferPointer(rebasing: stream[offset..<end])) { lines.append($0) }
            offset = end
        }
        try decoder.close { lines.append($0) }
    } catch {
        if error.description.isEmpty { fatalError("a watch error without a description") }
    }
    for line in lines {
        guard line.count <= 64 * 1024 else { fatalError("a line over the limit came out") }
        guard let event = try? YAMLReader.documents(line, file: "watch event").first,
              let object = event.member("object"), let resource = LogConfigObject(object) else { continue }
        switch resource.pipeline(defaults) {
        case .success(let pipeline):
            if pipeline.bootstrap == nil { fatalError("a reconcilable resource without a plan") }
        case .failure(let problem):
            if problem.reasons.isEmpty { fatalError("an invalid resource without a reason") }
        }
        _ = resource.logstoreSettings
    }
    return 0
}
