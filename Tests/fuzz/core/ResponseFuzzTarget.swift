// ResponseFuzzTarget.swift
//
// libFuzzer target for what an SLS endpoint (or anything answering on its port) sends back: the input's
// first byte chooses a chunk size, the rest is fed to HTTPResponseParser in chunks of that size as a
// socket would deliver them, then the connection "closes". A completed response is classified the way
// the flusher and the control-plane client do (SLSResponse). Garbage must end in a typed parse error or
// a disposition, never a crash, a hang or unbounded memory. Built by Tests/fuzz/run-core-fuzz.sh.
@testable import TailcarCore

@_cdecl("LLVMFuzzerTestOneInput")
public func responseFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let chunk = Int(data[0]) + 1
    let stream = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    var parser = HTTPResponseParser(limits: HTTPParserLimits(maxLineBytes: 512, maxHeaderCount: 16,
                                                             maxHeaderBytes: 4096, maxBodyBytes: 64 * 1024))
    var offset = 0
    do {
        while offset < stream.count {
            let end = min(offset + chunk, stream.count)
            let progress = try parser.feed(UnsafeRawBufferPointer(rebasing: stream[offset..<end]))
            if case .complete(let consumed) = progress {
                guard consumed <= end - offset else { fatalError("consumed \(consumed) of \(end - offset) bytes") }
                classify(parser.takeResponse())
                parser.reset()
                offset += max(consumed, 1)
                continue
            }
            offset = end
        }
        if case .complete = try parser.finish() { classify(parser.takeResponse()) }
    } catch {
        _ = error
    }
    return 0
}

private func classify(_ response: HTTPResponse?) {
    guard let response else { fatalError("complete without a response") }
    _ = SLSResponse.disposition(of: response)
    _ = SLSResponse.error(from: response)
}
