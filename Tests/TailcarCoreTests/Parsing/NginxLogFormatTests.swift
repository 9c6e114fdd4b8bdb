// Tests of the nginx log_format to regex conversion (the generated strings only; matching is the regex
// parser's job).
import Testing
@testable import TailcarCore

@Suite("NginxLogFormat")
struct NginxLogFormatTests {
    @Test("the main format gives the console's regex and keys")
    func main() {
        let (pattern, keys) = NginxLogFormat.regex(for: NginxLogFormat.main)
        #expect(pattern == #"(\S*)\s*-\s*(\S*)\s*\[(\d+/\S+/\d+:\d+:\d+:\d+)\s+\S+\]\s*"(\S+)\s+(\S+)\s+\S+"\s*"#
            + #"(\S*)\s*(\S*)\s*"([^"]*)"\s*"([^"]*)"\s*"([^"]*)".*"#)
        #expect(keys == ["remote_addr", "remote_user", "time_local", "request_method", "request_uri", "status",
                         "body_bytes_sent", "http_referer", "http_user_agent", "http_x_forwarded_for"])
    }

    @Test("combined is main without the forwarded-for field")
    func combined() {
        let (pattern, keys) = NginxLogFormat.regex(for: NginxLogFormat.combined)
        #expect(pattern.hasSuffix(#""([^"]*)"\s*"([^"]*)".*"#))
        #expect(keys.last == "http_user_agent" && keys.count == 9)
    }

    @Test("custom formats", arguments: [
        (#"$remote_addr|$request_time|${upstream_addr}ms"#, #"(\S*)\|(\S*)\|(\S*)ms.*"#,
         ["remote_addr", "request_time", "upstream_addr"]),
        (#"[$time_iso8601] "$host" $status(${bytes_sent}) cost=$request_time? $$ $"#,
         #"\[(\S*)\]\s*"([^"]*)"\s*(\S*)\((\S*)\)\s*cost=(\S*)\?\s*\$\$\s*\$.*"#,
         ["time_iso8601", "host", "status", "bytes_sent", "request_time"]),
        (#""$request" "$cookie_a - $cookie_b""#, #""(\S+)\s+(\S+)\s+\S+"\s*"([^"]*)\s*-\s*([^"]*)".*"#,
         ["request_method", "request_uri", "cookie_a", "cookie_b"]),
        ("time:$time_local\thost:$host", #"time:(\d+/\S+/\d+:\d+:\d+:\d+)\s+\S+\s*host:(\S*).*"#,
         ["time_local", "host"]),
        ("", ".*", []),
    ])
    func custom(format: String, pattern: String, keys: [String]) {
        let result = NginxLogFormat.regex(for: format)
        #expect(result.pattern == pattern)
        #expect(result.keys == keys)
    }

    @Test("a whole log_format directive is accepted")
    func directive() {
        let directive = """
            log_format  main  escape=json '$remote_addr - $remote_user [$time_local] "$request" '
                              '$status $body_bytes_sent "$http_referer" '
                              "\\"$http_user_agent\\" \\"$http_x_forwarded_for\\"";
            """
        #expect(NginxLogFormat.regex(for: directive) == NginxLogFormat.regex(for: NginxLogFormat.main))
    }
}
