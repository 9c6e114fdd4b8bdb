// KeyTable.swift
//
// Field names known when a pipeline's configuration loads ("content", the keys of a regex or delimiter
// parser, "__raw_log__"), interned once so that records refer to them by index. Owns nothing per record.

public final class KeyTable {
    public private(set) var names: [[UInt8]] = []
    private var indexByName: [String: Int] = [:]

    /// Index of "content", present in every table: simple mode's only key and most parsers' source key.
    public let content: Int

    public init() {
        content = 0
        names.append(Array("content".utf8))
        indexByName["content"] = 0
    }

    /// The index of `name`, adding it on first use. Call while building a pipeline, not per record.
    public func intern(_ name: String) -> Int {
        if let index = indexByName[name] { return index }
        names.append(Array(name.utf8))
        indexByName[name] = names.count - 1
        return names.count - 1
    }

    public func name(_ index: Int) -> String { String(decoding: names[index], as: UTF8.self) }

    public func withName<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try names[index].withUnsafeBytes(body)
    }
}
