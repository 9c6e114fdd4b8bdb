// RegexFuzzTarget.swift
//
// A libFuzzer target for TailcarRegex, compiled together with the engine's sources by
// Tests/fuzz/run-regex-fuzz.sh (not part of the package build). Each input is split into a pattern
// and a subject: the first byte says how long the pattern is. The target compiles the pattern
// (rejections are fine), runs a whole-record match and a search under a small backtracking budget,
// and, where PCRE2 accepts the pattern too and neither engine stopped at its limit, traps when the
// two disagree on match or on any capture offset. It must never crash, hang or disagree.
import CPCRE2

@_cdecl("LLVMFuzzerTestOneInput")
public func regexFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let patternLength = min(Int(data[0]) % 128, size - 1)
    let pattern = String(decoding: UnsafeBufferPointer(start: data + 1, count: patternLength), as: UTF8.self)
    let subject = UnsafeRawBufferPointer(start: data + 1 + patternLength, count: size - 1 - patternLength)
    guard let regex = try? CompiledRegex(pattern) else { return 0 }
    let matcher = RegexMatcher(regex, budgetBase: 20_000, budgetPerByte: 16)
    let reference = FuzzReference(pattern)
    var ours = [Int](repeating: 0, count: regex.captureSlots)
    for whole in [true, false] {
        let result = ours.withUnsafeMutableBufferPointer { captures in
            whole ? matcher.matchWhole(subject, captures: captures) : matcher.search(subject, captures: captures)
        }
        guard let reference, result != .budgetExceeded,
              let expected = reference.match(subject, whole: whole, groups: regex.captureCount) else { continue }
        let agrees = result == .matched ? expected == ours : expected.isEmpty
        if !agrees {
            fatalError("pattern \(pattern) whole=\(whole) on \(Array(subject)): tailcar \(result) \(ours), pcre2 \(expected)")
        }
    }
    return 0
}

/// PCRE2 (8-bit, no UTF) with a match limit: captures as offset pairs, [] for no match, nil when
/// PCRE2 stopped at its limit or reports a different group count.
final class FuzzReference {
    let code: OpaquePointer
    let matchData: OpaquePointer
    let context: OpaquePointer
    let groups: Int

    init?(_ pattern: String) {
        var error: Int32 = 0
        var offset = 0
        let bytes = Array(pattern.utf8)
        guard let code = bytes.withUnsafeBufferPointer({ pcre2_compile_8($0.baseAddress, $0.count, 0, &error, &offset, nil) })
        else { return nil }
        self.code = code
        var count: UInt32 = 0
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        groups = Int(count)
        matchData = pcre2_match_data_create_from_pattern_8(code, nil)
        context = pcre2_match_context_create_8(nil)
        pcre2_set_match_limit_8(context, 100_000)
    }

    deinit {
        pcre2_match_context_free_8(context)
        pcre2_match_data_free_8(matchData)
        pcre2_code_free_8(code)
    }

    func match(_ subject: UnsafeRawBufferPointer, whole: Bool, groups expectedGroups: Int) -> [Int]? {
        guard groups == expectedGroups else { return nil }
        let options: UInt32 = whole ? UInt32(PCRE2_ANCHORED | PCRE2_ENDANCHORED) : 0
        let start = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)
        let rc = pcre2_match_8(code, start, subject.count, 0, options, matchData, context)
        if rc == PCRE2_ERROR_NOMATCH { return [] }
        if rc < 0 { return nil }
        let ovector = pcre2_get_ovector_pointer_8(matchData)!
        var out: [Int] = []
        for g in 0...groups {
            let unset = g >= Int(rc) || ovector[2 * g] == ~0
            out += unset ? [-1, -1] : [Int(ovector[2 * g]), Int(ovector[2 * g + 1])]
        }
        return out
    }
}
