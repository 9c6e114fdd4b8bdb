// GlobPattern.swift
//
// One FilePaths pattern, split into path segments: literal names, single-segment globs (`*`, `?`, `[...]`,
// `[!...]`, matched by glibc fnmatch and never crossing `/`), and `**`, which stands for zero or more whole
// directory levels. Owns matching a path, or a directory that may lead to a match; not filesystem access.
//
//   "/var/log/**/app-*.log" with maxDepth 2 matches /var/log/app-1.log, /var/log/a/app-1.log and
//   /var/log/a/b/app-1.log, not /var/log/a/b/c/app-1.log; its root (where scanning starts) is /var/log.
//
// As in iLogtail, MaxDirSearchDepth bounds how many levels `**` may stand for (0: only the directory
// itself); a pattern without `**` names its directories exactly.

import Glibc

public struct GlobError: Error, CustomStringConvertible, Equatable, Sendable {
    public var pattern: String
    public var position: Int
    public var what: String

    public var description: String { "file pattern \"\(pattern)\" at character \(position): \(what)" }
}

struct GlobPattern: Sendable {
    enum Segment: Equatable, Sendable {
        case literal(String)
        case glob(String)
        case anyDirectories
    }

    let text: String
    let segments: [Segment]
    /// The longest leading run of literal directory segments, as a path.
    let root: String
    /// How many directory levels all `**` segments together may stand for.
    let maxDepth: Int

    init(_ text: String, maxDepth: Int) throws(GlobError) {
        guard text.hasPrefix("/") else {
            throw GlobError(pattern: text, position: 0, what: "must be an absolute path")
        }
        self.text = text
        self.maxDepth = max(0, maxDepth)
        var segments: [Segment] = []
        var offset = 1
        for part in text.split(separator: "/", omittingEmptySubsequences: true).map(String.init) {
            if part == "**" {
                segments.append(.anyDirectories)
            } else if part.contains("**") {
                throw GlobError(pattern: text, position: offset, what: "`**` must be a whole path segment")
            } else if part.contains(where: { "*?[".contains($0) }) {
                if let problem = Self.checkBrackets(part) {
                    throw GlobError(pattern: text, position: offset + problem, what: "unclosed `[`")
                }
                segments.append(.glob(part))
            } else {
                segments.append(.literal(part))
            }
            offset += part.utf8.count + 1
        }
        guard let last = segments.last, last != .anyDirectories else {
            throw GlobError(pattern: text, position: text.utf8.count, what: "must end with a file name pattern")
        }
        self.segments = segments
        var rootParts: [String] = []
        for segment in segments.dropLast() {
            guard case .literal(let name) = segment else { break }
            rootParts.append(name)
        }
        root = "/" + rootParts.joined(separator: "/")
    }

    /// Whether `path` (absolute, no trailing slash) matches the whole pattern.
    func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/").map(String.init)
        return match(parts[...], segments[...], budget: maxDepth, wholePath: true)
    }

    /// Whether a file matching the pattern may exist at or below directory `path`.
    func mayContain(directory path: String) -> Bool {
        let parts = path.split(separator: "/").map(String.init)
        return match(parts[...], segments.dropLast(), budget: maxDepth, wholePath: false)
    }

    /// Matches path components against segments. With `wholePath` false, success means every component was
    /// consumed by directory segments (more may follow below).
    private func match(_ parts: ArraySlice<String>, _ segments: ArraySlice<Segment>, budget: Int,
                       wholePath: Bool) -> Bool {
        guard let segment = segments.first else { return parts.isEmpty }
        guard let part = parts.first else { return !wholePath }
        let restParts = parts.dropFirst(), restSegments = segments.dropFirst()
        switch segment {
        case .literal(let name):
            return part == name && match(restParts, restSegments, budget: budget, wholePath: wholePath)
        case .glob(let pattern):
            return fnmatch(pattern, part, 0) == 0 && match(restParts, restSegments, budget: budget, wholePath: wholePath)
        case .anyDirectories:
            if match(parts, restSegments, budget: budget, wholePath: wholePath) { return true }
            // `**` stands for one more level, if the budget allows and a file could still follow.
            return budget > 0 && match(restParts, segments, budget: budget - 1, wholePath: wholePath)
        }
    }

    /// The offset of an unclosed `[` in a segment, if any.
    private static func checkBrackets(_ part: String) -> Int? {
        let bytes = Array(part.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") { index += 2; continue }
            if bytes[index] == UInt8(ascii: "[") {
                var close = index + 1
                if close < bytes.count, bytes[close] == UInt8(ascii: "!") || bytes[close] == UInt8(ascii: "^") { close += 1 }
                if close < bytes.count, bytes[close] == UInt8(ascii: "]") { close += 1 }
                while close < bytes.count, bytes[close] != UInt8(ascii: "]") { close += 1 }
                if close >= bytes.count { return index }
                index = close
            }
            index += 1
        }
        return nil
    }
}
