// LogCorpus.swift
//
// Real log patterns from Logtail/iLogtail configs and realistic lines for each, plus seeded
// mutations of those lines. Test data only.

struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum LogCorpus {
    static let seedNginx =
        #"(\S+)\s(\S+)\s\S+\s\S+\s"(\S+)\s(\S+)\s+([^"]+)"\s+(\S+)\s(\S+)\s(\d+)\s(\d+)\s(\S+)\s"([^"]+)"\s.*"#
    static let nginxCombined =
        #"^(\S+) - (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$"#
    static let apacheCombined =
        #"^(\S+) (\S+) (\S+) \[([\w:/]+\s[+\-]\d{4})\] "(\S+)\s?(\S+)?\s?(\S+)?" (\d{3}|-) (\d+|-)\s?"?([^"]*)"?\s?"?([^"]*)?"?$"#
    static let log4j =
        #"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3})\s+(\w+)\s+\[([^\]]+)\]\s+(\S+)\s+-\s+(.*)$"#
    static let logback = #"(\d+-\d+-\d+\s\S+)\s+\[([^\]]+)\]\s+(\w+)\s+(\S+)\s+-\s+(.*)"#
    static let syslog3164 =
        #"^<(\d+)>(\w{3}\s+\d{1,2} \d{2}:\d{2}:\d{2}) (\S+) ([^:\[]+)(?:\[(\d+)\])?: (.*)$"#
    static let syslog5424 = #"^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) ?(.*)$"#
    static let klog = #"^([IWEF])(\d{4}) (\d{2}:\d{2}:\d{2}\.\d{6})\s+(\d+) ([^:]+):(\d+)\] (.*)$"#
    static let goLog = #"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) (?:(\w+\.go:\d+): )?(.*)$"#
    static let python =
        #"^(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) - (?P<name>[\w.]+) - (?P<level>\w+) - (?P<msg>.*)$"#
    static let keyValue = #"(\w+)=("[^"]*"|\S*)"#
    static let lazyTail = #"^(.*?)\s+(\S+)$"#

    static let patterns: [String] = [
        seedNginx, nginxCombined, apacheCombined, log4j, logback, syslog3164, syslog5424, klog, goLog,
        python, keyValue, lazyTail,
        #"\d{4}-\d{2}-\d{2}.*"#, #"\[\d+-\d+-\d+\s\d+:\d+:\d+.*"#, #"^\S+\s\d+:\d+:\d+"#,
        #"(?i)^(error|warn|info)\b"#, #"Traceback \(most recent call last\):"#, #"^\s+at\s"#,
        #".*(ERROR|WARN).*"#, #"(?i).*error.*"#, #"/var/log/(\w+)/(?<file>.*)\.log"#,
        #"^(?<ip>\d{1,3}(?:\.\d{1,3}){3})\b"#, #""(.*?)""#, #"(?s)^(\S+) (.*)$"#,
        #"^\[(\w+)\]\s*(.*?)\s*$"#, #"\x5b(\d+)\x5d\t(\S+)"#, #"^[A-Z][a-z]{2} [ 0-3]\d \d\d:\d\d:\d\d"#,
        #"(?i)(?<level>debug|info|warn(?:ing)?|error|fatal)"#, #"\bid=(\d+)\B"#, #"^(\w+)\s*\|\s*(.*)\Z"#,
    ]

    static func lines(_ rng: inout SeededRandom) -> [String] {
        func pick(_ a: [String]) -> String { a[Int(rng.next() % UInt64(a.count))] }
        func num(_ lo: Int, _ hi: Int) -> String { String(lo + Int(rng.next() % UInt64(hi - lo + 1))) }
        func pad(_ s: String, _ n: Int) -> String { String(repeating: "0", count: max(0, n - s.count)) + s }
        let ip = "\(num(1, 254)).\(num(0, 255)).\(num(0, 255)).\(num(1, 254))"
        let method = pick(["GET", "POST", "PUT", "DELETE", "HEAD"])
        let path = pick(["/", "/index.html", "/api/v1/items?id=42&q=a%20b", "/static/app.js", "/a b"])
        let agent = pick(["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "curl/7.88.1", "-", "Go-http-client/1.1"])
        let date = "2024-\(pad(num(1, 12), 2))-\(pad(num(1, 28), 2))"
        let time = "\(pad(num(0, 23), 2)):\(pad(num(0, 59), 2)):\(pad(num(0, 59), 2))"
        let level = pick(["INFO", "WARN", "ERROR", "DEBUG", "info", "Warning"])
        let message = pick(["Started server on port 8080", "user \"bob\" logged in id=77 ok",
                            "failed: connection reset by peer", "", "  trailing spaces  ", "é ünïcode msg", "x"])
        return [
            "\(ip) - - [10/Oct/2024:13:55:36 +0800] \"\(method) \(path) HTTP/1.1\" \(num(100, 599)) \(num(0, 99999)) \"-\" \"\(agent)\"",
            "\(ip) - \(pick(["-", "frank"])) [10/Oct/2024:13:55:36 +0800] \"\(method) \(path) HTTP/1.1\" \(num(100, 599)) \(num(0, 99999)) \"http://ref.example/\" \"\(agent)\"",
            "\(ip) 0.\(num(0, 999)) - [10/Oct/2024:13:55:36 +0800] \"\(method) \(path) HTTP/1.1\" \(num(0, 999)) \(num(100, 599)) \(num(100, 999)) \(num(0, 999)) \"\(agent)\" \"x\" -",
            "\(date) \(time),\(pad(num(0, 999), 3)) \(level) [main-\(num(1, 9))] com.example.App - \(message)",
            "\(date) \(time).\(pad(num(0, 999), 3)) [http-nio-8080-exec-\(num(1, 9))] \(level) o.s.web.Servlet - \(message)",
            "<\(num(0, 191))>Oct \(num(1, 31)) \(time) host\(num(1, 9)) sshd[\(num(1, 65535))]: \(message)",
            "<\(num(0, 191))>Oct  \(num(1, 9)) \(time) host cron: \(message)",
            "<\(num(0, 191))>1 \(date)T\(time).003Z host app \(num(1, 999)) ID47 [exampleSDId@32473 iut=\"3\"] \(message)",
            "<\(num(0, 191))>1 \(date)T\(time)Z host app - - - \(message)",
            "\(pick(["I", "W", "E", "F"]))\(pad(num(1, 1231), 4)) \(time).\(pad(num(0, 999999), 6))       \(num(1, 99999)) controller.go:\(num(1, 999))] \(message)",
            "\(date.replacingSlashes()) \(time) main.go:\(num(1, 99)): \(message)",
            "\(date.replacingSlashes()) \(time) \(message)",
            "\(date) \(time),\(pad(num(0, 999), 3)) - app.module - \(level) - \(message)",
            "ts=\(date)T\(time)Z level=\(level) msg=\"\(message)\" id=\(num(1, 99)) empty=",
            "Traceback (most recent call last):", "    at com.example.App.main(App.java:\(num(1, 99)))",
            "/var/log/nginx/access.log", "[\(level)] \(message)", "\(level) | \(message)", message,
            "[\(num(1, 99))]\tline\(num(1, 9))", "Oct \(num(10, 31)) \(time) host x", "id=\(num(1, 99))x tail\n",
        ]
    }

    /// A small random edit of a line: delete, insert, replace, truncate or duplicate.
    static func mutate(_ line: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        var b = line
        let specials: [UInt8] = [0x20, 0x22, 0x0A, 0x09, 0xFF, 0xC3, 0x5B, 0x5D, 0x2D, 0x30, 0x61, 0x41]
        let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
        switch rng.next() % 5 {
        case 0: if !b.isEmpty { b.remove(at: at) }
        case 1: b.insert(specials[Int(rng.next() % UInt64(specials.count))], at: at)
        case 2: if !b.isEmpty { b[at] = specials[Int(rng.next() % UInt64(specials.count))] }
        case 3: b = Array(b.prefix(at))
        default: b.insert(contentsOf: b[at...].prefix(8), at: at)
        }
        return b
    }
}

extension String {
    func replacingSlashes() -> String { String(map { $0 == "-" ? "/" : $0 }) }
}
