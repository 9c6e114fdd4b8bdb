// main.swift (regex-bench)
//
// MB/s of TailcarRegex against PCRE2-JIT, the PCRE2 interpreter and Swift Regex on the same lines,
// whole-record match (as Logtail's parser). Allocation counting is not done here yet.
// Run: swift run -c release regex-bench
import CPCRE2
import Glibc
import TailcarRegex

let patterns: [(String, String, String)] = [
    ("seed nginx", #"(\S+)\s(\S+)\s\S+\s\S+\s"(\S+)\s(\S+)\s+([^"]+)"\s+(\S+)\s(\S+)\s(\d+)\s(\d+)\s(\S+)\s"([^"]+)"\s.*"#,
     #"10.1.2.3 0.012 - - "GET /api/v1/items?id=42 HTTP/1.1" 200 5123 3 12 - "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" "-""#),
    ("nginx combined", #"^(\S+) - (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$"#,
     #"10.1.2.3 - frank [10/Oct/2024:13:55:36 +0800] "GET /api/v1/items?id=42 HTTP/1.1" 200 5123 "http://ref.example/" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36""#),
    ("log4j", #"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3})\s+(\w+)\s+\[([^\]]+)\]\s+(\S+)\s+-\s+(.*)$"#,
     "2024-10-10 13:55:36,123 INFO  [http-nio-8080-exec-7] com.example.orders.OrderService - order 4711 accepted for customer 42 in 12 ms"),
    ("syslog 3164", #"^<(\d+)>(\w{3}\s+\d{1,2} \d{2}:\d{2}:\d{2}) (\S+) ([^:\[]+)(?:\[(\d+)\])?: (.*)$"#,
     "<34>Oct 11 22:14:15 mymachine sshd[4721]: Accepted publickey for deploy from 10.0.0.7 port 52144 ssh2"),
]

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func measure(_ bytesPerRun: Int, _ body: () -> Bool) -> Double {
    var runs = 0
    let start = now()
    while now() - start < 0.6 {
        for _ in 0..<1000 { precondition(body(), "no match") }
        runs += 1000
    }
    return Double(runs * bytesPerRun) / (now() - start) / 1e6
}

func pcre2(_ pattern: String, jit: Bool, _ line: [UInt8]) -> Double {
    var err: Int32 = 0
    var off = 0
    let p = Array(pattern.utf8)
    let code = p.withUnsafeBufferPointer { pcre2_compile_8($0.baseAddress, $0.count, UInt32(PCRE2_ANCHORED | PCRE2_ENDANCHORED), &err, &off, nil) }!
    if jit { pcre2_jit_compile_8(code, UInt32(PCRE2_JIT_COMPLETE)) }
    let md = pcre2_match_data_create_from_pattern_8(code, nil)
    defer { pcre2_match_data_free_8(md); pcre2_code_free_8(code) }
    return line.withUnsafeBufferPointer { l in
        measure(l.count) { pcre2_match_8(code, l.baseAddress, l.count, 0, 0, md, nil) > 0 }
    }
}

var rows: [String] = []
for (name, pattern, text) in patterns {
    let line = Array(text.utf8)
    let regex = try! CompiledRegex(pattern)
    let matcher = RegexMatcher(regex)
    var caps = [Int](repeating: 0, count: regex.captureSlots)
    let ours = line.withUnsafeBytes { l in
        caps.withUnsafeMutableBufferPointer { c in measure(l.count) { matcher.matchWhole(l, captures: c) == .matched } }
    }
    let jit = pcre2(pattern, jit: true, line)
    let interp = pcre2(pattern, jit: false, line)
    let swiftRegex = try! Regex(pattern)
    let s = text
    let sw = measure(line.count) { (try? swiftRegex.wholeMatch(in: s)) != nil }
    rows.append("| \(name) | \(Int(ours)) | \(Int(jit)) | \(Int(interp)) | \(Int(sw)) | \(String(format2: ours / jit)) | \(String(format2: ours / interp)) |")
}

extension String {
    init(format2 v: Double) { self = String(Double(Int(v * 100)) / 100) }
}

print("| pattern | Tailcar MB/s | PCRE2-JIT MB/s | PCRE2 interp MB/s | Swift Regex MB/s | vs JIT | vs interp | ")
print("|---|---|---|---|---|---|---|")
for r in rows { print(r) }
