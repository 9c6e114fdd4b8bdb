// RegexMatcher+Execute.swift
//
// The VM loop: runs the program from one start offset, backtracking through the explicit stack.
// Owns instruction semantics, give-back of greedy runs and the budget check; does not own the
// choice of start offsets or the capture output.
//
// Greedy run give-back, for `(\S+)x` on "abxcd": the run scans to 5, leaves a frame (min 1, last 5);
// each pop retries at the next lower offset where the following byte 'x' is found (here 2).
#if canImport(Glibc)
import Glibc
#endif

extension RegexMatcher {
    /// 1 matched (slots hold the captures, slot 1 the end), 0 no match, -1 budget exceeded.
    func execute(_ s: UnsafePointer<UInt8>, _ n: Int, _ start: Int, whole: Bool) -> Int8 {
        var pc = 0
        var pos = start
        outer: while true {
            let inst = program + pc
            switch inst.pointee.step {
            case .byte:
                if pos < n && s[pos] == UInt8(truncatingIfNeeded: inst.pointee.x) {
                    pos += 1; pc += 1; continue outer
                }
            case .set:
                if pos < n && tables[Int(inst.pointee.x) &+ Int(s[pos])] != 0 {
                    pos += 1; pc += 1; continue outer
                }
            case .literal:
                let len = Int(inst.pointee.y)
                if n &- pos >= len && sameBytes(s + pos, literals + Int(inst.pointee.x), len) {
                    pos &+= len; pc &+= 1; continue outer
                }
            case .split:
                push(RegexFrame(kind: 0, pc: inst.pointee.y, a: pos, b: 0))
                pc = Int(inst.pointee.x)
                continue outer
            case .jump:
                pc = Int(inst.pointee.x)
                continue outer
            case .save:
                save(inst.pointee.x, pos)
                pc += 1
                continue outer
            case .assert:
                if assertion(inst.pointee.x, s, n, pos) { pc += 1; continue outer }
            case .possessiveTable:
                let limit = min(n, pos &+ Int(inst.pointee.z))
                if endRun(inst, tableEnd(s, pos, limit, inst), s, n, &pos) { pc &+= 1; continue outer }
            case .possessiveAll:
                let limit = min(n, pos &+ Int(inst.pointee.z))
                if endRun(inst, limit, s, n, &pos) { pc &+= 1; continue outer }
            case .possessiveSingle:
                let limit = min(n, pos &+ Int(inst.pointee.z))
                let end = RegexScan.firstByte(inst.pointee.scanA, s, pos, limit, n)
                if endRun(inst, end, s, n, &pos) { pc &+= 1; continue outer }
            case .possessiveBelow:
                let limit = min(n, pos &+ Int(inst.pointee.z))
                let skipped = RegexScan.firstBelow(inst.pointee.scanA, tables + Int(inst.pointee.x), s, pos, limit, n)
                if endRun(inst, tableEnd(s, skipped, limit, inst), s, n, &pos) { pc &+= 1; continue outer }
            case .possessiveRange:
                let limit = min(n, pos &+ Int(inst.pointee.z))
                let end = RegexScan.endOfRange(inst.pointee.scanA, inst.pointee.scanB, s, pos, limit, n)
                if endRun(inst, end, s, n, &pos) { pc &+= 1; continue outer }
            case .runGreedy:
                let limit = min(n, pos &+ Int(inst.pointee.z))
                let end = scan(s, pos, limit, n, inst)
                let least = pos &+ Int(inst.pointee.y)
                if end >= least {
                    if end > least {
                        push(RegexFrame(kind: 2, pc: Int32(pc + 1), a: least, b: end))
                    }
                    pos = end; pc += 1; continue outer
                }
            case .runLazy:
                let least = pos &+ Int(inst.pointee.y)
                if least <= n && scan(s, pos, least, n, inst) == least {
                    pos = least
                    let limit = min(n, pos &+ Int(inst.pointee.z) &- Int(inst.pointee.y))
                    if pos < limit && tables[Int(inst.pointee.x) &+ Int(s[pos])] != 0 {
                        push(RegexFrame(kind: 3, pc: Int32(pc), a: limit, b: pos))
                    }
                    pc += 1; continue outer
                }
            case .loopCheck:
                pc = pos == slots[Int(inst.pointee.x)] ? Int(inst.pointee.y) : pc + 1
                continue outer
            case .match:
                if !whole || pos == n {
                    slots[1] = pos
                    return 1
                }
            }
            // Failure: pop frames until one says where to resume, or there is none left.
            if let outcome = backtrack(s, &pc, &pos) { return outcome }
        }
    }

    /// Pops the backtrack stack until a frame gives a place to resume (pc and pos set, nil returned);
    /// 0 when the stack is empty (no match from this start), -1 when the step budget is spent.
    @inline(__always)
    private func backtrack(_ s: UnsafePointer<UInt8>, _ pc: inout Int, _ pos: inout Int) -> Int8? {
        while true {
            if sp == 0 { return 0 }
            steps &+= 1
            if steps > budget { return -1 }
            sp -= 1
            let f = stack[sp]
            switch f.kind {
            case 0:
                pc = Int(f.pc); pos = f.a
                return nil
            case 1:
                slots[Int(f.pc)] = f.a
            case 2:
                guard let p = giveBack(s, f) else { continue }
                if p > f.a { stack[sp].b = p; sp += 1 }
                pc = Int(f.pc); pos = p
                return nil
            default:
                let run = program[Int(f.pc)]
                let p = f.b + 1
                if p < f.a && tables[Int(run.x) &+ Int(s[p])] != 0 { stack[sp].b = p; sp += 1 }
                pc = Int(f.pc) + 1; pos = p
                return nil
            }
        }
    }

    /// The next lower offset a greedy run can end at, skipping offsets where the following
    /// byte or literal cannot start. Nil when the run is back at its minimum.
    @inline(__always)
    private func giveBack(_ s: UnsafePointer<UInt8>, _ f: RegexFrame) -> Int? {
        var p = f.b - 1
        let next = program[Int(f.pc)]
        let want: Int32
        switch next.op {
        case .byte: want = next.x
        case .literal: want = Int32(literals[Int(next.x)])
        default: return p >= f.a ? p : nil
        }
        let c = UInt8(truncatingIfNeeded: want)
        while p >= f.a && s[p] != c { p -= 1 }
        return p >= f.a ? p : nil
    }

    /// Finishes a possessive run that scanned from `pos` to `end`: enough bytes, the fused following
    /// byte present, then the fused capture saves. False when the run fails here.
    @inline(__always)
    private func endRun(_ inst: UnsafeMutablePointer<RegexInst>, _ end: Int, _ s: UnsafePointer<UInt8>,
                        _ n: Int, _ pos: inout Int) -> Bool {
        guard end >= pos &+ Int(inst.pointee.y) else { return false }
        let then = inst.pointee.then
        if then >= 0 {
            guard end < n && tables[Int(then) &+ Int(s[end])] != 0 else { return false }
        }
        if inst.pointee.open >= 0 { save(inst.pointee.open, pos) }
        if inst.pointee.close >= 0 { save(inst.pointee.close, end) }
        pos = then >= 0 ? end &+ 1 : end
        return true
    }

    /// Extends a run from `from` with a table lookup per byte.
    @inline(__always)
    private func tableEnd(_ s: UnsafePointer<UInt8>, _ from: Int, _ limit: Int,
                          _ inst: UnsafeMutablePointer<RegexInst>) -> Int {
        let table = tables + Int(inst.pointee.x)
        var p = from
        while p < limit && table[Int(s[p])] != 0 { p &+= 1 }
        return p
    }

    /// Compares a literal; short ones (most in log patterns: `" `, ` - `) without a call.
    @inline(__always)
    private func sameBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        if count > 16 { return memcmp(a, b, count) == 0 }
        var i = 0
        while i < count {
            if a[i] != b[i] { return false }
            i &+= 1
        }
        return true
    }

    /// Sets a capture slot, leaving a frame that restores it when something could backtrack.
    @inline(__always)
    private func save(_ slot: Int32, _ pos: Int) {
        if sp > 0 { push(RegexFrame(kind: 1, pc: slot, a: slots[Int(slot)], b: 0)) }
        slots[Int(slot)] = pos
    }

    /// End of the longest run of set members in [from, limit). Log fields are short, so runs scan
    /// eight bytes per step inline (RegexScan.swift); loads may look past the limit (a counted run
    /// like `\d{2}`) but never past the input's end `n`.
    @inline(__always)
    private func scan(_ s: UnsafePointer<UInt8>, _ from: Int, _ limit: Int, _ n: Int,
                      _ inst: UnsafeMutablePointer<RegexInst>) -> Int {
        let table = tables + Int(inst.pointee.x)
        var p = from
        switch inst.pointee.scan {
        case .all: return limit
        case .single: return RegexScan.firstByte(inst.pointee.scanA, s, from, limit, n)
        case .range: return RegexScan.endOfRange(inst.pointee.scanA, inst.pointee.scanB, s, from, limit, n)
        case .below: p = RegexScan.firstBelow(inst.pointee.scanA, table, s, from, limit, n)
        case .table: break
        }
        while p < limit && table[Int(s[p])] != 0 { p &+= 1 }
        return p
    }

    @inline(__always)
    private func isWord(_ c: UInt8) -> Bool {
        let l = c | 0x20
        return (l >= 0x61 && l <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F
    }

    private func assertion(_ kind: Int32, _ s: UnsafePointer<UInt8>, _ n: Int, _ pos: Int) -> Bool {
        switch RegexAssertion(rawValue: kind)! {
        case .startOfSubject: return pos == 0
        case .startOfLine: return pos == 0 || (pos < n && s[pos - 1] == 0x0A)
        case .endOrFinalNewline: return pos == n || (pos == n - 1 && s[pos] == 0x0A)
        case .endOfSubject: return pos == n
        case .endOfLine: return pos == n || s[pos] == 0x0A
        case .wordBoundary, .notWordBoundary:
            let before = pos > 0 && isWord(s[pos - 1])
            let after = pos < n && isWord(s[pos])
            return (before != after) == (kind == RegexAssertion.wordBoundary.rawValue)
        }
    }
}
