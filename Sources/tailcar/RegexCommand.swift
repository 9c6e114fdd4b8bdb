// RegexCommand.swift
//
// `tailcar regex 'PATTERN' [--search]`: reads lines on stdin and prints one JSON value per line,
// the tool a user reaches for to try a pattern before deploying it. Owns line reading, the JSON
// output format and exit codes; does not own matching.
//
// Output per line (the trailing '\n' is not part of the line; a final line without one counts):
//   no match                 null
//   match                    one element per capturing group, in group order:
//                            an unnamed group is "value", a named group is {"name": "value"},
//                            a group that did not take part is null (or {"name": null})
//   budget exceeded          null, and "line N: backtracking budget exceeded" on stderr
// Example: pattern `(\d+) (?<word>\w+)` on "12 ab" prints ["12",{"word":"ab"}].
// Bytes are escaped losslessly: control bytes as \u00XX, bytes of invalid UTF-8 as \udcXX.
// Exit status: 0, or 2 when the pattern does not compile (the error goes to stderr).
import Glibc
import TailcarCore
import TailcarRegex

enum RegexCommand {
    static func run(arguments: [String]) -> Int32 {
        var pattern: String? = nil
        var searchMode = false
        for arg in arguments {
            if arg == "--search" { searchMode = true } else if pattern == nil { pattern = arg } else {
                writeAll(2, Array("usage: tailcar regex 'PATTERN' [--search]\n".utf8))
                return 2
            }
        }
        guard let pattern else {
            writeAll(2, Array("usage: tailcar regex 'PATTERN' [--search]\n".utf8))
            return 2
        }
        let regex: CompiledRegex
        do {
            regex = try CompiledRegex(pattern)
        } catch {
            writeAll(2, Array("\(error)\n".utf8))
            return 2
        }
        var printer = LinePrinter(regex: regex, search: searchMode)
        forEachLine(fd: 0) { line in printer.handle(line) }
        printer.flush()
        return 0
    }

    /// Reads `fd` to EOF in chunks and calls `body` per line without its '\n'.
    static func forEachLine(fd: Int32, _ body: (UnsafeRawBufferPointer) -> Void) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            var lineStart = 0
            for i in 0..<got where chunk[i] == 0x0A {
                if pending.isEmpty {
                    chunk.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[lineStart..<i])) }
                } else {
                    pending.append(contentsOf: chunk[lineStart..<i])
                    pending.withUnsafeBytes { body($0) }
                    pending.removeAll(keepingCapacity: true)
                }
                lineStart = i + 1
            }
            pending.append(contentsOf: chunk[lineStart..<got])
        }
        if !pending.isEmpty { pending.withUnsafeBytes { body($0) } }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            done += n
        }
    }
}

/// Matches each line and appends its JSON to an output buffer flushed in large writes.
struct LinePrinter {
    let regex: CompiledRegex
    let matcher: RegexMatcher
    let search: Bool
    var captures: [Int]
    var out: [UInt8] = []
    var lineNumber = 0

    init(regex: CompiledRegex, search: Bool) {
        self.regex = regex
        self.matcher = RegexMatcher(regex)
        self.search = search
        self.captures = [Int](repeating: -1, count: regex.captureSlots)
    }

    mutating func handle(_ line: UnsafeRawBufferPointer) {
        lineNumber += 1
        let result = captures.withUnsafeMutableBufferPointer { caps in
            search ? matcher.search(line, captures: caps) : matcher.matchWhole(line, captures: caps)
        }
        switch result {
        case .noMatch: out.append(contentsOf: "null".utf8)
        case .budgetExceeded:
            out.append(contentsOf: "null".utf8)
            RegexCommand.writeAll(2, Array("line \(lineNumber): backtracking budget exceeded\n".utf8))
        case .matched: appendCaptures(line)
        }
        out.append(0x0A)
        if out.count >= 65536 { flush() }
    }

    private mutating func appendCaptures(_ line: UnsafeRawBufferPointer) {
        out.append(UInt8(ascii: "["))
        for g in stride(from: 1, through: regex.captureCount, by: 1) {
            if g > 1 { out.append(UInt8(ascii: ",")) }
            let name = regex.captureNames[g - 1]
            if let name {
                out.append(UInt8(ascii: "{"))
                RecordJSONWriter.appendString(name, to: &out)
                out.append(UInt8(ascii: ":"))
            }
            let (start, end) = (captures[2 * g], captures[2 * g + 1])
            if start < 0 {
                out.append(contentsOf: "null".utf8)
            } else {
                RecordJSONWriter.appendString(UnsafeRawBufferPointer(rebasing: line[start..<end]), to: &out)
            }
            if name != nil { out.append(UInt8(ascii: "}")) }
        }
        out.append(UInt8(ascii: "]"))
    }

    mutating func flush() {
        RegexCommand.writeAll(1, out)
        out.removeAll(keepingCapacity: true)
    }
}
