// PCRE2Reference.swift
//
// The oracle: a small wrapper over PCRE2 (8-bit, non-UTF) that answers the same questions as
// `RegexMatcher` (whole-record match, search) in the same shape (captures as offset pairs, -1 for
// unset). Test-only; owns the PCRE2 code and match data lifetimes.
import CPCRE2
import TailcarRegex

enum ReferenceResult: Equatable {
    case matched([Int])
    case noMatch
    case limitReached
}

final class PCRE2Reference {
    let code: OpaquePointer
    let matchData: OpaquePointer
    let groups: Int
    /// Bounds PCRE2's backtracking when a test sets `matchLimit` (nil: PCRE2's default of 10 million).
    let context: OpaquePointer?

    /// Nil when PCRE2 rejects the pattern.
    init?(_ pattern: String, matchLimit: UInt32? = nil) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let bytes = Array(pattern.utf8)
        guard let code = bytes.withUnsafeBufferPointer({ p in
            pcre2_compile_8(p.baseAddress, p.count, 0, &errorCode, &errorOffset, nil)
        }) else { return nil }
        self.code = code
        var count: UInt32 = 0
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        groups = Int(count)
        matchData = pcre2_match_data_create_from_pattern_8(code, nil)
        if let matchLimit {
            context = pcre2_match_context_create_8(nil)
            pcre2_set_match_limit_8(context, matchLimit)
        } else {
            context = nil
        }
    }

    deinit {
        if let context { pcre2_match_context_free_8(context) }
        pcre2_match_data_free_8(matchData)
        pcre2_code_free_8(code)
    }

    func match(_ input: [UInt8], whole: Bool) -> ReferenceResult {
        let options: UInt32 = whole ? UInt32(PCRE2_ANCHORED | PCRE2_ENDANCHORED) : 0
        let rc = input.withUnsafeBufferPointer { p in
            pcre2_match_8(code, p.baseAddress ?? UnsafePointer(bitPattern: 1), p.count, 0, options, matchData, context)
        }
        if rc == PCRE2_ERROR_NOMATCH { return .noMatch }
        if rc < 0 { return .limitReached }
        let ovector = pcre2_get_ovector_pointer_8(matchData)!
        var out: [Int] = []
        for g in 0...groups {
            if g >= Int(rc) || ovector[2 * g] == ~0 {
                out.append(contentsOf: [-1, -1])
            } else {
                out.append(contentsOf: [Int(ovector[2 * g]), Int(ovector[2 * g + 1])])
            }
        }
        return .matched(out)
    }
}

/// Runs TailcarRegex the same way, in the oracle's result shape.
func tailcarMatch(_ matcher: RegexMatcher, _ input: [UInt8], whole: Bool) -> ReferenceResult {
    var caps = [Int](repeating: -7, count: matcher.regex.captureSlots)
    let r = input.withUnsafeBytes { bytes in
        caps.withUnsafeMutableBufferPointer { c in
            whole ? matcher.matchWhole(bytes, captures: c) : matcher.search(bytes, captures: c)
        }
    }
    switch r {
    case .matched: return .matched(caps)
    case .noMatch: return .noMatch
    case .budgetExceeded: return .limitReached
    }
}

/// Compares both engines on one input; returns a description of the first disagreement.
func disagreement(_ pattern: String, _ ours: RegexMatcher, _ ref: PCRE2Reference,
                  _ input: [UInt8], whole: Bool) -> String? {
    let a = tailcarMatch(ours, input, whole: whole)
    let b = ref.match(input, whole: whole)
    if a == .limitReached || b == .limitReached || a == b { return nil }
    let shown = String(decoding: input.prefix(200), as: UTF8.self)
    return "pattern \(pattern) \(whole ? "whole" : "search") on \(input.count) bytes \"\(shown)\": tailcar \(a) pcre2 \(b)"
}
