// RegexCompiler.swift
//
// Lowers a syntax tree into the backtracking program: byte and literal-run instructions, run
// instructions for a quantified single class (`\S+`, `[^"]+`, `\d{1,3}`), splits ordered so that
// the first alternative and the greedy/lazy choice are tried in Perl's order, and empty-iteration
// checks for loops whose body can match nothing. A final pass marks greedy runs possessive when
// what follows can never start inside the run. Does not own parsing or matching.
//
// Example: `(\S+)\s"` becomes
//   save 2; runPossessive \S 1..inf; save 3; byte ' '... (\s is a set, disjoint from \S)

struct RegexCompiler {
    var program: [RegexInst] = []
    private(set) var tables: [UInt8] = []
    private(set) var literals: [UInt8] = []
    private(set) var slotCount: Int
    private var tableIndex: [ByteSet: Int32] = [:]
    private var pattern = ""

    /// Programs above this many instructions are rejected (counted repeats expand their body).
    static let maxProgram = 200_000

    init(groupCount: Int) {
        slotCount = 2 * (groupCount + 1)
    }

    mutating func compile(_ tree: RegexNode, pattern: String) throws(RegexCompileError) {
        self.pattern = pattern
        try emit(tree)
        program.append(RegexInst(op: .match))
        markPossessiveRuns()
        fuseRuns()
        for pc in program.indices { program[pc].step = RegexStep(program[pc]) }
    }

    /// The fastest scan loop that finds exactly where a run over `set` ends (see `RunScan`).
    static func runScan(_ set: ByteSet) -> (RunScan, UInt8, UInt8) {
        if set == .all { return (.all, 0, 0) }
        if let stop = set.singleExcluded { return (.single, stop, 0) }
        let members = (0..<256).filter { set.contains(UInt8($0)) }
        if let first = members.first, let last = members.last, last < 0x80, last - first + 1 == members.count {
            return (.range, UInt8(first), UInt8(last))
        }
        let highestStop = (0..<256).last { !set.contains(UInt8($0)) } ?? 0
        // A bound of 0x40 keeps letters, digits-heavy text and most punctuation above it.
        if highestStop < 0x40 { return (.below, UInt8(highestStop + 1), 0) }
        return (.table, 0, 0)
    }

    private func tooLarge() -> RegexCompileError {
        RegexCompileError(construct: "pattern too large after expanding counted repeats",
                          offset: 0, pattern: pattern)
    }

    @discardableResult
    private mutating func append(_ inst: RegexInst) throws(RegexCompileError) -> Int {
        if program.count >= Self.maxProgram { throw tooLarge() }
        program.append(inst)
        return program.count - 1
    }

    mutating func table(_ set: ByteSet) -> Int32 {
        if let t = tableIndex[set] { return t }
        let offset = Int32(tables.count)
        for b in 0..<256 { tables.append(set.contains(UInt8(b)) ? 1 : 0) }
        tableIndex[set] = offset
        return offset
    }

    private mutating func emit(_ node: RegexNode) throws(RegexCompileError) {
        switch node {
        case .empty: return
        case .set(let s): try emitSet(s)
        case .concat(let items): try emitConcat(items)
        case .alternation(let branches): try emitAlternation(branches)
        case .group(let inner): try emit(inner)
        case .capture(let inner, let index):
            try append(RegexInst(op: .save, x: Int32(2 * index)))
            try emit(inner)
            try append(RegexInst(op: .save, x: Int32(2 * index + 1)))
        case .assertion(let a): try append(RegexInst(op: .assert, x: a.rawValue))
        case .repetition(let inner, let lo, let hi, let greedy):
            try emitRepetition(inner, min: lo, max: hi, greedy: greedy)
        }
    }

    private mutating func emitSet(_ s: ByteSet) throws(RegexCompileError) {
        if let b = s.singleByte {
            try append(RegexInst(op: .byte, x: Int32(b)))
        } else {
            try append(RegexInst(op: .set, x: table(s)))
        }
    }

    /// Consecutive single bytes become one literal instruction (compared with memcmp).
    private mutating func emitConcat(_ items: [RegexNode]) throws(RegexCompileError) {
        var run: [UInt8] = []
        func flush(_ c: inout RegexCompiler, _ run: inout [UInt8]) throws(RegexCompileError) {
            if run.count == 1 {
                try c.append(RegexInst(op: .byte, x: Int32(run[0])))
            } else if run.count > 1 {
                try c.append(RegexInst(op: .literal, x: Int32(c.literals.count), y: Int32(run.count)))
                c.literals.append(contentsOf: run)
            }
            run.removeAll()
        }
        for item in items {
            if case .set(let s) = item, let b = s.singleByte {
                run.append(b)
                continue
            }
            try flush(&self, &run)
            try emit(item)
        }
        try flush(&self, &run)
    }

    private mutating func emitAlternation(_ branches: [RegexNode]) throws(RegexCompileError) {
        var exits: [Int] = []
        for (i, branch) in branches.enumerated() {
            if i == branches.count - 1 {
                try emit(branch)
                break
            }
            let split = try append(RegexInst(op: .split))
            program[split].x = Int32(program.count)
            try emit(branch)
            exits.append(try append(RegexInst(op: .jump)))
            program[split].y = Int32(program.count)
        }
        for e in exits { program[e].x = Int32(program.count) }
    }

    private mutating func emitRepetition(_ inner: RegexNode, min lo: Int, max hi: Int?,
                                         greedy: Bool) throws(RegexCompileError) {
        if case .group(let grouped) = inner, case .set = grouped {
            return try emitRepetition(grouped, min: lo, max: hi, greedy: greedy)
        }
        if case .set(let s) = inner {
            if lo == 1 && hi == 1 { return try emitSet(s) }
            var run = RegexInst(op: greedy ? .runGreedy : .runLazy, x: table(s), y: Int32(lo),
                                z: hi.map { Int32($0) } ?? Int32.max)
            (run.scan, run.scanA, run.scanB) = Self.runScan(s)
            try append(run)
            return
        }
        for _ in 0..<lo { try emit(inner) }
        guard let hi else { return try emitStar(inner, greedy: greedy) }
        var exits: [Int] = []
        for _ in lo..<hi {
            exits.append(try append(RegexInst(op: .split)))
            try emit(inner)
        }
        let end = Int32(program.count)
        for e in exits {
            program[e].x = greedy ? Int32(e + 1) : end
            program[e].y = greedy ? end : Int32(e + 1)
        }
    }

    /// `e*`: loop while the body consumes something; an empty iteration ends the loop (PCRE2's rule).
    private mutating func emitStar(_ inner: RegexNode, greedy: Bool) throws(RegexCompileError) {
        let top = try append(RegexInst(op: .split))
        var slot: Int32 = -1
        if RegexAnalysis.canBeEmpty(inner) {
            slot = Int32(slotCount)
            slotCount += 1
            try append(RegexInst(op: .save, x: slot))
        }
        try emit(inner)
        let check = slot >= 0 ? try append(RegexInst(op: .loopCheck, x: slot)) : -1
        try append(RegexInst(op: .jump, x: Int32(top)))
        let exit = Int32(program.count)
        if check >= 0 { program[check].y = exit }
        program[top].x = greedy ? Int32(top + 1) : exit
        program[top].y = greedy ? exit : Int32(top + 1)
    }

    /// A greedy run whose continuation must start with a byte outside the run (or is the end of the
    /// pattern) never benefits from giving bytes back: make it possessive.
    private mutating func markPossessiveRuns() {
        for pc in program.indices where program[pc].op == .runGreedy {
            let runSet = setAt(Int(program[pc].x))
            var budget = 32
            if let next = firstConsumed(after: pc + 1, budget: &budget), next.isDisjoint(with: runSet) {
                program[pc].op = .runPossessive
            }
        }
    }

    /// The bytes any path from `start` must consume first, where a path that ends without consuming
    /// contributes nothing it could gain from a give-back; nil when unknown. Both branches of a
    /// split count (`(?:\[(\d+)\])?: ` must start with '[' or ':'). An end assertion counts as the
    /// '\n' it may stand before: a run that excludes '\n' and gives bytes back lands before a
    /// member byte, where `$`, `\Z` and `\z` cannot hold. `budget` bounds the instructions visited.
    private func firstConsumed(after start: Int, budget: inout Int) -> ByteSet? {
        var pc = start
        while budget > 0 {
            budget -= 1
            let inst = program[pc]
            switch inst.op {
            case .save: pc += 1
            case .jump: pc = Int(inst.x)
            case .match: return ByteSet()
            case .byte: return ByteSet(byte: UInt8(inst.x))
            case .literal: return ByteSet(byte: literals[Int(inst.x)])
            case .set: return setAt(Int(inst.x))
            case .runGreedy, .runPossessive, .runLazy:
                return inst.y > 0 ? setAt(Int(inst.x)) : nil
            case .split:
                guard var first = firstConsumed(after: Int(inst.x), budget: &budget),
                      let second = firstConsumed(after: Int(inst.y), budget: &budget) else { return nil }
                first.formUnion(second)
                return first
            case .assert:
                switch RegexAssertion(rawValue: inst.x) {
                case .endOfSubject: return ByteSet()
                case .endOrFinalNewline, .endOfLine: return ByteSet(byte: 0x0A)
                default: return nil
                }
            case .loopCheck: return nil
            }
        }
        return nil
    }

    func setAt(_ offset: Int) -> ByteSet {
        var s = ByteSet()
        for b in 0..<256 where tables[offset + b] != 0 { s.insert(UInt8(b)) }
        return s
    }
}
