// CompiledRegex.swift
//
// The public face of a compiled pattern: an immutable program of specialised instructions built
// once when a configuration loads, plus the compile error type. Owns the instruction format and
// the facts the matcher uses to skip work (anchoring, first bytes); does not own matching.

/// Why a pattern was rejected: the construct, its byte offset in the pattern, and the pattern.
public struct RegexCompileError: Error, CustomStringConvertible, Sendable, Equatable {
    public let construct: String
    public let offset: Int
    public let pattern: String

    public var description: String {
        "regex error at offset \(offset): \(construct) in pattern \(pattern)"
    }
}

/// One VM instruction. Fields are interpreted per opcode (see `RegexOp`).
struct RegexInst: Sendable {
    var op: RegexOp
    /// What the matcher dispatches on, set when the program is final (see `RegexStep`).
    var step: RegexStep = .match
    /// For runs: how the scan finds the end of the run, with its byte arguments.
    var scan: RunScan = .table
    var scanA: UInt8 = 0
    var scanB: UInt8 = 0
    var x: Int32 = 0
    var y: Int32 = 0
    var z: Int32 = 0
    /// For fused possessive runs (see RegexCompiler+Fusion.swift): the slots saved at the run's start and end,
    /// and the table of one byte that must follow the run; -1 when absent.
    var open: Int32 = -1
    var close: Int32 = -1
    var then: Int32 = -1
}

/// The loop a run instruction scans with, chosen from its byte set when compiling.
enum RunScan: UInt8, Sendable {
    /// A table lookup per byte.
    case table
    /// Every byte is a member (`(?s).`): the run ends at its limit.
    case all
    /// One byte is not a member (`[^"]`, `.`): find it (scanA), eight bytes per step, then memchr.
    case single
    /// Every non-member is below scanA (< 0x80, as `\S` stops below 0x21): look for bytes below it
    /// eight bytes per step and consult the table only there.
    case below
    /// The members are exactly scanA...scanB (< 0x80, as `\d`): eight bytes per step.
    case range
}

/// The opcode as the matcher dispatches on it: possessive runs, the hottest instruction in log
/// patterns, are split by their scan loop so that they cost one indirect jump instead of two.
enum RegexStep: UInt8, Sendable {
    case byte, set, literal, split, jump, save, assert, runGreedy, runLazy, loopCheck, match
    case possessiveTable, possessiveAll, possessiveSingle, possessiveBelow, possessiveRange

    init(_ inst: RegexInst) {
        switch inst.op {
        case .byte: self = .byte
        case .set: self = .set
        case .literal: self = .literal
        case .split: self = .split
        case .jump: self = .jump
        case .save: self = .save
        case .assert: self = .assert
        case .runGreedy: self = .runGreedy
        case .runLazy: self = .runLazy
        case .loopCheck: self = .loopCheck
        case .match: self = .match
        case .runPossessive:
            switch inst.scan {
            case .table: self = .possessiveTable
            case .all: self = .possessiveAll
            case .single: self = .possessiveSingle
            case .below: self = .possessiveBelow
            case .range: self = .possessiveRange
            }
        }
    }
}

enum RegexOp: UInt8, Sendable {
    case byte            // x: the byte
    case set             // x: offset of the set's 256-byte table
    case literal         // x: offset into the literal pool, y: length
    case split           // try x first; on failure resume at y
    case jump            // x: target
    case save            // x: slot; restored on backtrack
    case assert          // x: RegexAssertion raw value
    case runGreedy       // x: table, y: min, z: max (Int32.max unbounded); gives back one byte at a time
    case runPossessive   // as runGreedy, but what follows can never use a give-back; may carry
                         // open/close capture slots and a following byte (`then`)
    case runLazy         // x: table, y: min, z: max
    case loopCheck       // x: slot holding the iteration start; if nothing was consumed, jump to y
    case match
}

/// An immutable compiled pattern. Build it once; share it between threads; give each thread its own
/// `RegexMatcher`.
public final class CompiledRegex: Sendable {
    /// The source pattern.
    public let pattern: String
    /// Number of capturing groups, not counting group 0.
    public let captureCount: Int
    /// Group names: index i is group i+1; nil when the group has no name.
    public let captureNames: [String?]

    let program: [RegexInst]
    /// 256 bytes (0 or 1) per byte set used by the program.
    let tables: [UInt8]
    let literals: [UInt8]
    /// Total slots: 2 per group (group 0 included) plus one per empty-checked loop.
    let slotCount: Int
    /// The pattern can only match at offset 0 (it starts with \A or ^ without (?m)).
    let anchoredStart: Bool
    /// Bytes a non-empty match can start with; nil when a match may be empty or start anywhere.
    let firstBytes: [Bool]?
    /// When every match starts with this byte, search skips ahead with memchr.
    let firstByte: UInt8?

    public init(_ pattern: String) throws(RegexCompileError) {
        var parser = RegexParser(pattern)
        let tree = try parser.parse()
        var compiler = RegexCompiler(groupCount: parser.groupCount)
        try compiler.compile(tree, pattern: pattern)
        self.pattern = pattern
        self.captureCount = parser.groupCount
        self.captureNames = (0..<parser.groupCount).map { parser.names[$0 + 1] }
        self.program = compiler.program
        self.tables = compiler.tables
        self.literals = compiler.literals
        self.slotCount = compiler.slotCount
        let start = RegexAnalysis.startInfo(tree)
        self.anchoredStart = RegexAnalysis.isAnchoredAtStart(tree)
        if start.nullable || start.set == .all {
            self.firstBytes = nil
            self.firstByte = nil
        } else {
            self.firstBytes = (0..<256).map { start.set.contains(UInt8($0)) }
            self.firstByte = start.set.singleByte
        }
    }

    /// The number of Ints `captures` must hold: 2 * (captureCount + 1).
    public var captureSlots: Int { 2 * (captureCount + 1) }
}

/// Facts about a syntax tree that let search skip impossible start offsets.
enum RegexAnalysis {
    static func startInfo(_ node: RegexNode) -> (set: ByteSet, nullable: Bool) {
        switch node {
        case .empty, .assertion: return (ByteSet(), true)
        case .set(let s): return (s, false)
        case .capture(let inner, _), .group(let inner): return startInfo(inner)
        case .repetition(let inner, let lo, _, _):
            let i = startInfo(inner)
            return (i.set, i.nullable || lo == 0)
        case .alternation(let branches):
            var set = ByteSet(), nullable = false
            for b in branches {
                let i = startInfo(b)
                set.formUnion(i.set)
                nullable = nullable || i.nullable
            }
            return (set, nullable)
        case .concat(let items):
            var set = ByteSet()
            for item in items {
                let i = startInfo(item)
                set.formUnion(i.set)
                if !i.nullable { return (set, false) }
            }
            return (set, true)
        }
    }

    static func isAnchoredAtStart(_ node: RegexNode) -> Bool {
        switch node {
        case .assertion(let a): return a == .startOfSubject
        case .capture(let inner, _), .group(let inner): return isAnchoredAtStart(inner)
        case .alternation(let branches): return branches.allSatisfy(isAnchoredAtStart)
        case .concat(let items): return items.first.map(isAnchoredAtStart) ?? false
        case .repetition(let inner, let lo, _, _): return lo > 0 && isAnchoredAtStart(inner)
        default: return false
        }
    }

    static func canBeEmpty(_ node: RegexNode) -> Bool { startInfo(node).nullable }
}
