// CPUBurner.swift
//
// `processor_test_burn_cpu` (test only, refused unless TAILCAR_TEST_PROCESSORS=1): spends a fixed amount of
// the calling thread's CPU time on every record and leaves it unchanged, so a pipeline's cost per line is
// known and `tailcar bench`'s rate search can be checked against a CPU quota. Owns nothing else.

import Glibc

public final class CPUBurner: EventProcessor {
    private let nanosecondsPerRecord: Int64
    public private(set) var burned = 0

    public init(microsecondsPerRecord: Int) {
        nanosecondsPerRecord = Int64(microsecondsPerRecord) * 1000
    }

    public func process(_ group: EventGroup) -> ProcessOutcome {
        // Thread CPU time, not wall time: under a CPU quota the record costs the same CPU however long the
        // thread waits for its share.
        let until = Self.threadCPUNanoseconds() + nanosecondsPerRecord
        while Self.threadCPUNanoseconds() < until {}
        burned += 1
        return .keep
    }

    static func threadCPUNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
