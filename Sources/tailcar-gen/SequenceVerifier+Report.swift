// SequenceVerifier+Report.swift
//
// The `--verify` report: one `key=value` summary line, then the first missing ranges and duplicated
// numbers, so scripts and tests can parse it with a split. Owns the arithmetic over the sorted
// sequence list; does not read files.

extension SequenceVerifier {
    /// Example, for 1...10 with 4 and 5 lost and 7 seen twice:
    ///
    ///     lines=10 records=9 unique=8 first=1 last=10 expected=10 missing=2 duplicated=1 out_of_range=0 no_seq_lines=0
    ///     missing 4-5
    ///     duplicated 7 x2
    func report(sorted seen: [UInt64], lines: Int, linesWithoutSequence: Int) -> VerifyReport {
        let first = options.firstSequence
        let last = options.expectCount.map { first + $0 - 1 } ?? (seen.last.map { max($0, first) } ?? first)
        let expected = options.expectCount ?? (seen.isEmpty ? 0 : last - first + 1)
        var missingRanges: [(UInt64, UInt64)] = []
        var duplicates: [(UInt64, Int)] = []
        var missing: UInt64 = 0
        var duplicated: UInt64 = 0
        var unique: UInt64 = 0
        var outOfRange: UInt64 = 0
        var wanted = first
        var index = 0
        while index < seen.count {
            let number = seen[index]
            var copies = 1
            while index + copies < seen.count, seen[index + copies] == number { copies += 1 }
            index += copies
            unique += 1
            if copies > 1 { duplicated += 1; duplicates.append((number, copies)) }
            guard number >= first, number <= last, expected > 0 else { outOfRange += 1; continue }
            if number > wanted { missingRanges.append((wanted, number - 1)); missing += number - wanted }
            wanted = number + 1
        }
        if expected > 0, wanted <= last { missingRanges.append((wanted, last)); missing += last - wanted + 1 }
        var text = "lines=\(lines) records=\(seen.count) unique=\(unique) first=\(seen.first ?? 0) "
            + "last=\(seen.last ?? 0) expected=\(expected) missing=\(missing) duplicated=\(duplicated) "
            + "out_of_range=\(outOfRange) no_seq_lines=\(linesWithoutSequence)\n"
        for (low, high) in missingRanges.prefix(options.listLimit) {
            text += low == high ? "missing \(low)\n" : "missing \(low)-\(high)\n"
        }
        for (number, copies) in duplicates.prefix(options.listLimit) {
            text += "duplicated \(number) x\(copies)\n"
        }
        return VerifyReport(text: text, isClean: missing == 0 && duplicated == 0 && outOfRange == 0)
    }
}
