// RegexMatcher.swift
//
// Runs a `CompiledRegex` program over bytes: a backtracking VM with an explicit stack, both held
// in scratch memory the matcher owns, so a match allocates nothing once the stack has grown to the
// size the pattern needs. Owns match modes (whole record, search), the step budget, and the
// start-offset skipping; does not own compilation.
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one match call.
public enum RegexMatchResult: Sendable, Equatable {
    case matched
    case noMatch
    /// The pattern backtracked more than the matcher's budget allows on this input (for example
    /// `(a+)+$` on a long run of 'a'); captures are all -1. Count these; never retry in a loop.
    case budgetExceeded
}

/// A backtrack stack entry. `kind` says how to resume:
/// 0 branch (resume at pc, position a), 1 restore slot pc to a, 2 greedy give-back (resume at pc,
/// positions down to a, last tried b), 3 lazy extension (run instruction pc, limit a, last tried b).
struct RegexFrame {
    var kind: Int32
    var pc: Int32
    var a: Int
    var b: Int
}

/// Matches one `CompiledRegex` on one thread. A class because it owns manually managed scratch
/// memory (slots and the backtrack stack), freed in `deinit`. Not thread-safe: make one per thread.
public final class RegexMatcher {
    public let regex: CompiledRegex
    /// Backtracks allowed per call: `budgetBase + budgetPerByte * input.count`.
    public let budgetBase: Int
    public let budgetPerByte: Int
    /// Backtracks taken by the last call (for tests and tuning).
    public private(set) var lastSteps = 0

    let program: UnsafeMutablePointer<RegexInst>
    let tables: UnsafeMutablePointer<UInt8>
    let literals: UnsafeMutablePointer<UInt8>
    let firstBytes: UnsafeMutablePointer<Bool>?
    let slots: UnsafeMutablePointer<Int>
    /// Plain copies of the regex's counts, read on every call without touching the regex object.
    let slotCount: Int
    let captureSlots: Int
    let anchoredStart: Bool
    let firstByte: UInt8?
    var stack: UnsafeMutablePointer<RegexFrame>
    var stackCapacity: Int
    var sp = 0
    var steps = 0
    var budget = 0

    public init(_ regex: CompiledRegex, budgetBase: Int = 1_000_000, budgetPerByte: Int = 64) {
        self.regex = regex
        self.budgetBase = budgetBase
        self.budgetPerByte = budgetPerByte
        program = Self.copy(regex.program)
        tables = Self.copy(regex.tables.isEmpty ? [0] : regex.tables)
        literals = Self.copy(regex.literals.isEmpty ? [0] : regex.literals)
        firstBytes = regex.firstBytes.map { Self.copy($0) }
        slotCount = regex.slotCount
        captureSlots = regex.captureSlots
        anchoredStart = regex.anchoredStart
        firstByte = regex.firstByte
        slots = .allocate(capacity: regex.slotCount)
        slots.initialize(repeating: -1, count: regex.slotCount)
        stackCapacity = 256
        stack = .allocate(capacity: stackCapacity)
    }

    deinit {
        program.deallocate()
        tables.deallocate()
        literals.deallocate()
        firstBytes?.deallocate()
        slots.deallocate()
        stack.deallocate()
    }

    private static func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: a.count)
        _ = UnsafeMutableBufferPointer(start: p, count: a.count).initialize(from: a)
        return p
    }

    /// The whole input must match, as PCRE2 with PCRE2_ANCHORED | PCRE2_ENDANCHORED and as
    /// boost::regex_match (how Logtail applies its parse regex). `captures` holds
    /// 2 * (captureCount + 1) Ints: start and end per group, -1 for a group that did not take part.
    public func matchWhole(_ input: UnsafeRawBufferPointer,
                           captures: UnsafeMutableBufferPointer<Int>) -> RegexMatchResult {
        precondition(captures.count >= captureSlots, "captures needs 2 * (captureCount + 1) Ints")
        let n = input.count
        guard let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return Self.emptyInput.withUnsafeBufferPointer { p in
                matchWhole(UnsafeRawBufferPointer(start: p.baseAddress, count: 0), captures: captures)
            }
        }
        begin(n)
        let r = attempt(base, n, 0, whole: true)
        return finish(r, captures)
    }

    /// The leftmost match anywhere in the input (PCRE2's pcre2_match with no options).
    public func search(_ input: UnsafeRawBufferPointer,
                       captures: UnsafeMutableBufferPointer<Int>) -> RegexMatchResult {
        precondition(captures.count >= captureSlots, "captures needs 2 * (captureCount + 1) Ints")
        let n = input.count
        guard let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return Self.emptyInput.withUnsafeBufferPointer { p in
                search(UnsafeRawBufferPointer(start: p.baseAddress, count: 0), captures: captures)
            }
        }
        begin(n)
        if anchoredStart, let fb = firstBytes, n == 0 || !fb[Int(base[0])] {
            // Only offset 0 may match, and its byte cannot start a match: no need to look further.
            return finish(0, captures)
        }
        let last = anchoredStart ? 0 : n
        var start = 0
        while start <= last {
            if let fb = firstBytes {
                start = nextCandidate(base, n, start, fb)
                if start >= n { break }
            }
            let r = attempt(base, n, start, whole: false)
            if r != 0 { return finish(r, captures) }
            start += 1
        }
        return finish(0, captures)
    }

    private static let emptyInput: [UInt8] = [0]

    private func begin(_ n: Int) {
        steps = 0
        budget = budgetBase &+ budgetPerByte &* n
    }

    private func nextCandidate(_ s: UnsafePointer<UInt8>, _ n: Int, _ from: Int,
                               _ fb: UnsafeMutablePointer<Bool>) -> Int {
        if let b = firstByte {
            guard from < n, let hit = memchr(s + from, Int32(b), n - from) else { return n }
            return s.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
        var p = from
        while p < n && !fb[Int(s[p])] { p += 1 }
        return p
    }

    private func attempt(_ s: UnsafePointer<UInt8>, _ n: Int, _ start: Int, whole: Bool) -> Int8 {
        slots.update(repeating: -1, count: slotCount)
        slots[0] = start
        sp = 0
        return execute(s, n, start, whole: whole)
    }

    private func finish(_ r: Int8, _ captures: UnsafeMutableBufferPointer<Int>) -> RegexMatchResult {
        lastSteps = steps
        let out = captures.baseAddress!
        if r == 1 {
            // A group's two slots are set together or not at all: its closing save is the only way
            // on from its opening one, and backtracking past the opening restores both.
            out.update(from: slots, count: captureSlots)
            return .matched
        }
        out.update(repeating: -1, count: captureSlots)
        return r == 0 ? .noMatch : .budgetExceeded
    }

    @inline(__always)
    func push(_ frame: RegexFrame) {
        if sp == stackCapacity { growStack() }
        stack[sp] = frame
        sp += 1
    }

    private func growStack() {
        let bigger = UnsafeMutablePointer<RegexFrame>.allocate(capacity: stackCapacity * 2)
        bigger.moveInitialize(from: stack, count: sp)
        stack.deallocate()
        stack = bigger
        stackCapacity *= 2
    }
}
