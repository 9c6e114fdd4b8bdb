// RegexCompiler+Fusion.swift
//
// A peephole pass over the finished program: a possessive run, the capture saves around it and
// the one byte or class that must follow it become one instruction, so the common log field
// `(\S+)\s` costs one dispatch instead of four. Owns which neighbours may merge and the
// renumbering of jump targets; does not own what the fused instruction does (the matcher).
//
// Example: `save 2; runPossessive \S; save 3; set \s` -> `runPossessive \S open 2 close 3 then \s`.

extension RegexCompiler {
    /// Merges neighbours into possessive runs. An instruction some jump lands on is never merged
    /// into the one before it, so control flow stays exactly as compiled.
    mutating func fuseRuns() {
        let old = program
        let targets = jumpTargets(old)
        var fused: [RegexInst] = []
        var newIndex = [Int](repeating: 0, count: old.count)
        var pc = 0
        while pc < old.count {
            let first = pc
            var inst = old[pc]
            var open: Int32 = -1
            if inst.op == .save, pc + 1 < old.count, old[pc + 1].op == .runPossessive, !targets[pc + 1] {
                open = inst.x
                pc += 1
                inst = old[pc]
            }
            if inst.op == .runPossessive {
                inst.open = open
                if pc + 1 < old.count, old[pc + 1].op == .save, !targets[pc + 1] {
                    pc += 1
                    inst.close = old[pc].x
                }
                if pc + 1 < old.count, !targets[pc + 1], let follow = followingClass(old[pc + 1]) {
                    pc += 1
                    inst.then = table(follow)
                }
            } else if open >= 0 {
                inst = old[first]
                pc = first
            }
            for i in first...pc { newIndex[i] = fused.count }
            fused.append(inst)
            pc += 1
        }
        for i in fused.indices {
            switch fused[i].op {
            case .split:
                fused[i].x = Int32(newIndex[Int(fused[i].x)])
                fused[i].y = Int32(newIndex[Int(fused[i].y)])
            case .jump:
                fused[i].x = Int32(newIndex[Int(fused[i].x)])
            case .loopCheck:
                fused[i].y = Int32(newIndex[Int(fused[i].y)])
            default:
                break
            }
        }
        program = fused
    }

    /// The class a single-byte instruction consumes, when it can ride on the run before it.
    private func followingClass(_ inst: RegexInst) -> ByteSet? {
        switch inst.op {
        case .byte: return ByteSet(byte: UInt8(truncatingIfNeeded: inst.x))
        case .set: return setAt(Int(inst.x))
        default: return nil
        }
    }

    private func jumpTargets(_ program: [RegexInst]) -> [Bool] {
        var targets = [Bool](repeating: false, count: program.count + 1)
        for inst in program {
            switch inst.op {
            case .split:
                targets[Int(inst.x)] = true
                targets[Int(inst.y)] = true
            case .jump:
                targets[Int(inst.x)] = true
            case .loopCheck:
                targets[Int(inst.y)] = true
            default:
                break
            }
        }
        return targets
    }
}
