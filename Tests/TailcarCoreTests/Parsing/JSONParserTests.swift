// Golden, property and hostile-input tests of the JSON parser.
import Testing
@testable import TailcarCore

@Suite("JSONParser")
struct JSONParserTests {
    private func parse(_ line: [UInt8], discardUnmatch: Bool = false) -> (ParsedRecord, ParserCounters) {
        let table = KeyTable()
        let parser = JSONParser(table: table, policy: .logtail(discardUnmatch: discardUnmatch, keys: table))
        return (run([parser], on: line, group: EventGroup(keys: table)), parser.counters)
    }

    private func parse(_ line: String) -> (ParsedRecord, ParserCounters) { parse(Array(line.utf8)) }

    @Test("top-level members become fields", arguments: [
        (#"{"a":"x","b":1,"c":true,"d":null,"e":-1.5e3}"#, ["a=x", "b=1", "c=true", "d=null", "e=-1.5e3"]),
        (#"  { "a" : "x" , "b" : 0.50 }  "#, ["a=x", "b=0.50"]),
        (#"{"t":"a\tb\"c\\d\/e\u00e9\ud83d\ude00"}"#, ["t=a\tb\"c\\d/eé😀"]),
        (#"{"k\u0041y":"v"}"#, ["kAy=v"]),
        (#"{"o":{"k":[1,2,{"x":"y"}]},"a":[]}"#, [#"o={"k":[1,2,{"x":"y"}]}"#, "a=[]"]),
        (#"{"o": { "k" : [ 1, "a b" ,{ } ] } }"#, [#"o={"k":[1,"a b",{}]}"#]),
        (#"{"s":"{ not nested }","esc":{"q":"a\" b"}}"#, ["s={ not nested }", #"esc={"q":"a\" b"}"#]),
        (#"{}"#, []),
        (#"{"dup":1,"dup":2}"#, ["dup=1", "dup=2"]),
    ])
    func golden(line: String, expected: [String]) {
        let (result, counters) = parse(line)
        #expect(result.pairs == expected)
        #expect(counters.parsed == 1)
    }

    @Test("anything but one valid object is unmatched and kept under __raw_log__", arguments: [
        "", "[1,2]", "\"s\"", "12", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,}", "{\"a\" 1}", "{a:1}",
        "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":tru}", "{\"a\":\"x\ty\"}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00x\"}", "{\"a\":[1,]}", "{\"a\":{\"b\"}}",
        "{\"a\":[1 2]}", "{\"a\":1} x", "{\"a\":1}}", "{\"a\":{\"b\":1]}",
    ])
    func invalid(line: String) {
        let (result, counters) = parse(line)
        #expect(result.pairs == ["__raw_log__=\(line)"])
        #expect(counters.unmatched == 1 && counters.parsed == 0)
    }

    @Test("with discardUnmatch invalid JSON is dropped and counted")
    func discard() {
        let (result, counters) = parse(Array("{oops".utf8), discardUnmatch: true)
        #expect(result.dropped && counters.droppedUnmatched == 1)
    }

    @Test("every strict prefix of a document is unmatched")
    func truncated() {
        let document = Array(#"{"a":"x\"y","n":[1,{"b":null}],"m":-0.5e-2,"t":true}"#.utf8)
        for length in 0..<document.count {
            let (_, counters) = parse(Array(document[..<length]))
            #expect(counters.unmatched == 1, "prefix \(length)")
        }
        #expect(parse(document).1.parsed == 1)
    }

    @Test("invalid UTF-8, NUL escapes, deep nesting and a 10 MB value give counted outcomes")
    func hostile() {
        let binary: [UInt8] = Array(#"{"a":""#.utf8) + [0xFF, 0xC0, 0x80] + Array(#""}"#.utf8)
        #expect(parse(binary).0.fields.map { Array($0.value.utf8) }.count == 1)
        #expect(parse(#"{"a":"\u0000"}"#).0.fields.first?.value == "\u{0}")
        #expect(parse([0x7B, 0x00, 0x7D]).1.unmatched == 1)
        let deep = #"{"a":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(parse(deep).1.unmatched == 1)
        let big = #"{"big":""# + String(repeating: "x", count: 10 << 20) + #"","e":"\n"}"#
        let (result, counters) = parse(big)
        #expect(counters.parsed == 1)
        #expect(result.fields.map(\.value.utf8.count) == [10 << 20, 1])
    }

    @Test("generated objects survive serialisation with escapes and parsing unchanged (seeded)")
    func roundTrip() {
        var random = SeededGenerator(seed: 0x15_0_15_0)
        let table = KeyTable()
        let parser = JSONParser(table: table, policy: .logtail(discardUnmatch: true, keys: table))
        let group = EventGroup(keys: table)
        let alphabet: [Unicode.Scalar] = ["a", "Z", "\"", "\\", "/", "\n", "\t", "\u{1}", " ", "é", "😀", "{", "]"]
        for _ in 0..<400 {
            var expected: [String] = []
            var members: [String] = []
            for _ in 0..<Int.random(in: 0...5, using: &random) {
                let key = Self.randomText(alphabet, &random)
                let value = Self.randomText(alphabet, &random)
                let space = Bool.random(using: &random) ? " " : ""
                members.append(Self.encode(key, &random) + space + ":" + space + Self.encode(value, &random))
                expected.append("\(key)=\(value)")
            }
            let line = "{" + members.joined(separator: Bool.random(using: &random) ? "," : " ,\n ") + "}"
            let result = run(parser, on: line, group: group)
            #expect(result.pairs == expected, "line: \(line)")
            group.reset()
        }
        #expect(parser.counters.parsed == 400)
    }

    private static func randomText(_ alphabet: [Unicode.Scalar], _ random: inout SeededGenerator) -> String {
        var text = ""
        for _ in 0..<Int.random(in: 0...8, using: &random) {
            text.unicodeScalars.append(alphabet.randomElement(using: &random)!)
        }
        return text
    }

    /// A JSON string literal for `text`, escaping what must be escaped and, at random, other characters.
    private static func encode(_ text: String, _ random: inout SeededGenerator) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += Bool.random(using: &random) ? "\\t" : "\\u0009"
            case "/": out += Bool.random(using: &random) ? "\\/" : "/"
            default:
                if scalar.value < 0x20 || Bool.random(using: &random) {
                    for unit in String(scalar).utf16 { out += "\\u" + hex4(unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex4(_ unit: UInt16) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<4).map { digits[Int(unit >> (12 - 4 * $0)) & 0xF] })
    }
}

@Suite("JSON string scanning")
struct JSONStringScanTests {
    @Test("the eight-bytes-at-a-time scan finds the first quote, backslash or control byte (and non-ASCII byte, when asked), as a byte loop does")
    func matchesByteLoop() {
        var generator = SeededGenerator(seed: 42)
        let alphabet: [UInt8] = [0x22, 0x5C, 0x00, 0x1F, 0x20, 0x21, 0x41, 0x7F, 0x80, 0xA2, 0xDC, 0xFF]
        for _ in 0..<5000 {
            let count = Int(generator.next() % 40)
            let bytes = (0..<count).map { _ in
                generator.next() % 3 == 0 ? alphabet[Int(generator.next() % UInt64(alphabet.count))]
                                           : UInt8(0x61 + generator.next() % 26)
            }
            let from = count == 0 ? 0 : Int(generator.next() % UInt64(count))
            for orNonASCII in [false, true] {
                let expected = bytes[from...].firstIndex {
                    $0 == 0x22 || $0 == 0x5C || $0 < 0x20 || (orNonASCII && $0 >= 0x80)
                } ?? count
                bytes.withUnsafeBytes { raw in
                    #expect(ByteScan.firstJSONStringSpecial(in: raw, from: from, orNonASCII: orNonASCII) == expected,
                            "\(bytes) from \(from)")
                }
            }
        }
    }
}

@Suite("Byte scanning")
struct ByteScanTests {
    @Test("firstOf finds the first of two bytes eight at a time, as a byte loop does, within the bounds given")
    func matchesByteLoop() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<5000 {
            let count = Int(generator.next() % 40)
            let bytes = (0..<count).map { _ in [UInt8(0x7C), 0x22, 0x00, 0x80, 0xFC, 0x61][Int(generator.next() % 6)] }
            let from = count == 0 ? 0 : Int(generator.next() % UInt64(count))
            let end = from + (count == from ? 0 : Int(generator.next() % UInt64(count - from + 1)))
            let expected = bytes[from..<end].firstIndex { $0 == 0x7C || $0 == 0x22 } ?? end
            bytes.withUnsafeBytes { raw in
                #expect(ByteScan.firstOf(0x7C, 0x22, in: raw, from: from, end: end) == expected, "\(bytes) \(from)..<\(end)")
            }
        }
    }
}
