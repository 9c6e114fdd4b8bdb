// main.swift (regex-bench)
//
// MB per CPU-second of TailcarRegex against PCRE2-JIT, the PCRE2 interpreter and Swift Regex on the same lines,
// whole-record match (as Logtail's parser applies its regex). Each pattern has a few realistic
// lines; every engine matches every line in turn. Engines take turns in rounds of 0.3 s so that a
// noisy neighbour hits them alike, and each cell is the median of the rounds.
//
//   regex-bench [--rounds N] [--round-seconds S]   one JSON object per pattern and engine on stdout
//   ... --pattern NAME                   only that pattern (for profiling one)
//   regex-bench --alloc-matches N        only N whole-record matches per pattern with TailcarRegex,
//                                        for counting heap calls under bench/alloccount.c (LD_PRELOAD)
import CPCRE2
import Glibc
import TailcarRegex

struct Case {
    let name: String
    let pattern: String
    let lines: [[UInt8]]

    init(name: String, pattern: String, lines: [String]) {
        self.name = name
        self.pattern = pattern
        self.lines = lines.map { Array($0.utf8) }
    }
}

let allCases: [Case] = [
    Case(name: "seed nginx",
         pattern: #"(\S+)\s(\S+)\s\S+\s\S+\s"(\S+)\s(\S+)\s+([^"]+)"\s+(\S+)\s(\S+)\s(\d+)\s(\d+)\s(\S+)\s"([^"]+)"\s.*"#,
         lines: [
            #"10.1.2.3 0.012 - - "GET /api/v1/items?id=42 HTTP/1.1" 200 5123 3 12 - "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" "-""#,
            #"2024-10-10T13:55:36+08:00 192.168.100.17 - - "POST /checkout/cart HTTP/2.0" 0.241 1893 201 88 https://shop.example/cart "curl/8.5.0" seq=000000123"#,
            #"172.16.5.201 1.003 - - "DELETE /v2/orders/9f86d081884c7d659a2feaa0c55ad015 HTTP/1.1" 404 0 1 7 - "Go-http-client/1.1" "-""#,
         ]),
    Case(name: "nginx combined",
         pattern: #"^(\S+) - (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$"#,
         lines: [
            #"10.1.2.3 - frank [10/Oct/2024:13:55:36 +0800] "GET /api/v1/items?id=42 HTTP/1.1" 200 5123 "http://ref.example/" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36""#,
            #"192.168.100.17 - - [10/Oct/2024:13:55:37 +0800] "POST /checkout/cart HTTP/2.0" 201 88 "-" "curl/8.5.0""#,
         ]),
    Case(name: "log4j",
         pattern: #"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3})\s+(\w+)\s+\[([^\]]+)\]\s+(\S+)\s+-\s+(.*)$"#,
         lines: [
            "2024-10-10 13:55:36,123 INFO  [http-nio-8080-exec-7] com.example.orders.OrderService - order 4711 accepted for customer 42 in 12 ms",
            "2024-10-10 13:55:36,125 WARN  [scheduler-1] c.e.billing.Retry - retrying payment 99 after timeout (attempt 3 of 5)",
         ]),
    Case(name: "syslog 3164",
         pattern: #"^<(\d+)>(\w{3}\s+\d{1,2} \d{2}:\d{2}:\d{2}) (\S+) ([^:\[]+)(?:\[(\d+)\])?: (.*)$"#,
         lines: [
            "<34>Oct 11 22:14:15 mymachine sshd[4721]: Accepted publickey for deploy from 10.0.0.7 port 52144 ssh2",
            "<13>Oct  2 07:01:00 web-3 CRON[88123]: (root) CMD (run-parts /etc/cron.hourly)",
            "<30>Oct 11 22:14:16 mymachine systemd: Started Session 42 of user deploy.",
         ]),
]

/// This thread's CPU time: a neighbour taking the other core, or this one for a while, does not
/// count against the engine being measured.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A case's lines in memory allocated once, so the timed loop does no reference counting and every
/// engine is called the same way: one call per line on a raw pointer and a length.
final class Lines {
    /// Not an Array: iterating one allocates in a debug build, and the allocation count covers this loop.
    let buffers: UnsafeMutableBufferPointer<UnsafeRawBufferPointer>
    let byteCount: Int

    init(_ lines: [[UInt8]]) {
        buffers = .allocate(capacity: lines.count)
        for (i, line) in lines.enumerated() {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, line.count), alignment: 8)
            line.withUnsafeBytes { copy.copyMemory(from: $0) }
            buffers[i] = UnsafeRawBufferPointer(start: copy.baseAddress, count: line.count)
        }
        byteCount = lines.reduce(0) { $0 + $1.count }
    }

    deinit {
        for b in buffers { b.deallocate() }
        buffers.deallocate()
    }
}

/// One regex engine compiled for one case's pattern.
protocol Engine: AnyObject {
    /// Matches every line once; false if any line did not match.
    func matchEveryLine(_ lines: Lines) -> Bool
}

/// MB per CPU-second of one engine over the case's lines for about `seconds` of CPU time.
func measure(_ c: Case, _ lines: Lines, seconds: Double, _ engine: Engine) -> Double {
    var passes = 0
    let start = now()
    while now() - start < seconds {
        for _ in 0..<200 { precondition(engine.matchEveryLine(lines), "\(c.name): a line did not match") }
        passes += 200
    }
    return Double(passes * lines.byteCount) / (now() - start) / 1e6
}

/// PCRE2 compiled for a whole-record match (ANCHORED | ENDANCHORED), optionally JIT-compiled.
final class PCRE2Engine: Engine {
    let code: OpaquePointer
    let data: OpaquePointer

    init(_ pattern: String, jit: Bool) {
        var error: Int32 = 0
        var offset = 0
        let p = Array(pattern.utf8)
        code = p.withUnsafeBufferPointer {
            pcre2_compile_8($0.baseAddress, $0.count, UInt32(PCRE2_ANCHORED | PCRE2_ENDANCHORED), &error, &offset, nil)
        }!
        if jit { precondition(pcre2_jit_compile_8(code, UInt32(PCRE2_JIT_COMPLETE)) == 0, "PCRE2 JIT unavailable") }
        data = pcre2_match_data_create_from_pattern_8(code, nil)
    }

    deinit {
        pcre2_match_data_free_8(data)
        pcre2_code_free_8(code)
    }

    func matchEveryLine(_ lines: Lines) -> Bool {
        var all = true
        for line in lines.buffers {
            let start = line.baseAddress!.assumingMemoryBound(to: UInt8.self)
            all = pcre2_match_8(code, start, line.count, 0, 0, data, nil) > 0 && all
        }
        return all
    }
}

/// TailcarRegex with caller-owned capture storage, as the parser uses it.
final class TailcarEngine: Engine {
    let regex: CompiledRegex
    let matcher: RegexMatcher
    let captures: UnsafeMutableBufferPointer<Int>

    init(_ pattern: String) throws {
        regex = try CompiledRegex(pattern)
        matcher = RegexMatcher(regex)
        captures = .allocate(capacity: regex.captureSlots)
    }

    deinit { captures.deallocate() }

    func matchEveryLine(_ lines: Lines) -> Bool {
        var all = true
        for line in lines.buffers { all = matcher.matchWhole(line, captures: captures) == .matched && all }
        return all
    }
}

/// Swift's own Regex, on Strings made once.
final class SwiftRegexEngine: Engine {
    let regex: Regex<AnyRegexOutput>
    let texts: [String]

    init(_ pattern: String, _ lines: [[UInt8]]) throws {
        regex = try Regex(pattern)
        texts = lines.map { String(decoding: $0, as: UTF8.self) }
    }

    func matchEveryLine(_ lines: Lines) -> Bool {
        texts.allSatisfy { (try? regex.wholeMatch(in: $0)) != nil }
    }
}

func engines(_ c: Case) throws -> [(String, Engine)] {
    [("tailcar", try TailcarEngine(c.pattern)),
     ("pcre2-jit", PCRE2Engine(c.pattern, jit: true)),
     ("pcre2-interpreter", PCRE2Engine(c.pattern, jit: false)),
     ("swift-regex", try SwiftRegexEngine(c.pattern, c.lines))]
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func runThroughput(rounds: Int, seconds: Double) throws {
    for c in cases {
        let bound = try engines(c)
        let lines = Lines(c.lines)
        var samples = [[Double]](repeating: [], count: bound.count)
        for _ in 0..<rounds {
            for (i, (_, engine)) in bound.enumerated() { samples[i].append(measure(c, lines, seconds: seconds, engine)) }
        }
        for (i, (name, _)) in bound.enumerated() {
            let values = samples[i].map { String(Int($0)) }.joined(separator: ",")
            print(#"{"pattern": "\#(c.name)", "engine": "\#(name)", "median": \#(Int(median(samples[i]))), "rounds": [\#(values)]}"#)
        }
    }
}

func runAllocationCount(matches: Int) throws {
    for c in cases {
        let engine = try TailcarEngine(c.pattern)
        let lines = Lines(c.lines)
        for _ in 0..<(matches / c.lines.count) { precondition(engine.matchEveryLine(lines), "\(c.name) did not match") }
    }
    let done = cases.reduce(0) { $0 + matches / $1.lines.count * $1.lines.count }
    print(#"{"matches": \#(done)}"#)
}

let arguments = Array(CommandLine.arguments.dropFirst())
let cases = arguments.firstIndex(of: "--pattern").map { i in allCases.filter { $0.name == arguments[i + 1] } } ?? allCases
func value(after flag: String, default fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: flag), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else {
        return fallback
    }
    return v
}

if arguments.contains("--alloc-matches") {
    try runAllocationCount(matches: value(after: "--alloc-matches", default: 0))
} else {
    let seconds = arguments.firstIndex(of: "--round-seconds").flatMap { Double(arguments[$0 + 1]) } ?? 0.3
    try runThroughput(rounds: max(1, value(after: "--rounds", default: 5)), seconds: seconds)
}
