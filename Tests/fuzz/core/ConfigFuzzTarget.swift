// ConfigFuzzTarget.swift
//
// libFuzzer target for everything Tailcar reads as configuration: the bytes are written to a pipeline
// file and loaded by ConfigLoader (libyaml, then the iLogtail pipeline, AliyunLogConfig and Logtail config
// validators, regex compilation included), and read as an ilogtail_config.json by SidecarContext. Any
// input must end in settings or in errors that name a position; a crash, a hang or an unbounded
// allocation is a finding. Built by Tests/fuzz/run-core-fuzz.sh, not by the package.
import Glibc
@testable import TailcarCore

/// One file per process, rewritten for every input, in the working directory: run-core-fuzz.sh runs the
/// target inside its scratch directory and removes it afterwards, so nothing is left behind.
private let configPath = "tailcar-config-fuzz-\(getpid()).yaml"

@_cdecl("LLVMFuzzerTestOneInput")
public func configFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let fd = open(configPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(configPath): errno \(errno)") }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    let result = ConfigLoader.load(path: configPath)
    if result.settings == nil && result.errors.isEmpty {
        fatalError("the loader returned neither settings nor an error")
    }
    for error in result.errors where error.description.isEmpty { fatalError("an error without a description") }
    _ = try? SidecarContext.endpoint(in: bytes, file: configPath)
    return 0
}
