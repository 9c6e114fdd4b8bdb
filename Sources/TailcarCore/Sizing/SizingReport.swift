// SizingReport.swift
//
// How `tailcar bench` shows a budget's result: a JSON object per budget for scripts (`--json`), or for
// people a paragraph with the rate, the peak RSS and a suggested `resources:` block with its margin. Owns
// the wording and the margin rule; measuring is SizingRun's.

public enum SizingReport {
    /// Plan for at most this share of the rate a budget held: bursts, other files and a busier node.
    public static let plannedShare = 0.7

    public static func json(_ result: BudgetResult, seconds: Double) -> String {
        var fields: [(String, String)] = [
            ("cpus", number(result.budget.cpus, 3)),
            ("memory_mib", number(result.budget.memoryMiB, 1)),
            ("lines_per_second", result.linesPerSecond.map { number($0, 1) } ?? "null"),
            ("mb_per_second", result.megabytesPerSecond.map { number($0, 3) } ?? "null"),
            ("peak_rss_mib", number(Double(result.peakRSSBytes) / 1_048_576, 1)),
            ("measured", result.measured ? "true" : "false"),
            ("backend", quoted(result.backend)),
            ("seconds", number(seconds, 1)),
            ("cpu_seconds_per_mb", result.cpuSecondsPerMB.map { number($0, 5) } ?? "null"),
            ("steps", "\(result.steps.count)"),
        ]
        if let note = result.note { fields.append(("note", quoted(note))) }
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    public static func text(_ result: BudgetResult) -> String {
        let budget = result.budget
        var out = "\(budget) (\(result.backend)\(result.measured ? "" : ", NOT MEASURED: an estimate")):\n"
        guard let lines = result.linesPerSecond, let megabytes = result.megabytesPerSecond else {
            return out + "  no rate: \(result.note ?? "unknown")\n"
        }
        out += "  sustains \(format(lines, decimals: 0)) lines/s (\(format(megabytes, decimals: 3)) MB/s)"
        out += result.measured ? " with lag under 1 s and not growing" : ""
        out += result.peakRSSBytes > 0 ? ", peak RSS \(format(Double(result.peakRSSBytes) / 1_048_576, decimals: 1)) MiB\n" : "\n"
        if let note = result.note { out += "  \(note)\n" }
        out += "  suggested, for up to \(format(lines * plannedShare, decimals: 0)) lines/s "
            + "(\(format(megabytes * plannedShare, decimals: 3)) MB/s, a \(Int((1 - plannedShare) * 100))% margin"
        if result.peakRSSBytes > 0 {
            out += "; peak RSS is \(Int(Double(result.peakRSSBytes) / Double(budget.memoryBytes) * 100))% of the limit"
        }
        out += "):\n"
        let cpu = Budget.cpuQuantity(budget.cpus)
        let memory = Budget.memoryQuantity(budget.memoryBytes)
        out += "    resources:\n      requests: {cpu: \(cpu), memory: \(memory)}\n      limits: {cpu: \(cpu), memory: \(memory)}\n"
        return out
    }

    public static func progressLine(_ progress: SizingProgress) -> String {
        "\(progress.budget) \(progress.phase) at \(format(progress.targetLinesPerSecond, decimals: 0)) lines/s: "
            + "read \(format(progress.linesPerSecond, decimals: 0)) lines/s, lag \(format(progress.lagSeconds)) s, "
            + "CPU \(format(progress.cpuFraction * 100, decimals: 1))%, RSS \(format(Double(progress.rssBytes) / 1_048_576, decimals: 1)) MiB"
    }

    private static func number(_ value: Double, _ decimals: Int) -> String { format(value, decimals: decimals) }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
