// ConsoleCache.swift
//
// The last good set of console configs, kept in the checkpoint directory so a sidecar that starts while
// SLS cannot be reached runs what it ran before. Written like the checkpoint file (temporary file, fsync,
// rename, fsync of the directory), so a crash leaves the old set or the new one. Owns the file and its
// format; does not own when it is written (ConsoleControl).
//
//   {"version":1,"configs":[{"project":"p","group":"web","groupTopic":"t","name":"nginx","kind":"logtail",
//                            "body":"{\"configName\":\"nginx\",...}"}]}

import Glibc

public enum ConsoleCache {
    public static let fileName = "sls-configs.json"

    public static func path(in directory: String) -> String { joinPath(directory, fileName) }

    /// The cached set; nil when there is none. A file that cannot be read or parsed is an error.
    public static func read(_ path: String) throws(ConfigError) -> [ConsoleConfig]? {
        let start = SourcePosition(file: path, line: 1, column: 1)
        let bytes: [UInt8]?
        do { bytes = try readWholeFile(path) } catch { throw ConfigError(start, error.description) }
        guard let bytes else { return nil }
        let documents = try YAMLReader.documents(bytes, file: path)
        guard let root = documents.first, root.member("version").flatMap(ConsoleAnswer.scalar) == "1",
              let list = root.member("configs"), case .sequence(let items) = list.node else {
            throw ConfigError(start, "not a Tailcar console-config cache (version 1)")
        }
        var configs: [ConsoleConfig] = []
        for item in items {
            func text(_ key: String) -> String? { item.member(key).flatMap(ConsoleAnswer.scalar) }
            guard let project = text("project"), let group = text("group"), let name = text("name"),
                  let kind = text("kind").flatMap(ConsoleConfig.Kind.init(rawValue:)), let body = text("body") else {
                throw ConfigError(item.position, "a cached config needs project, group, name, kind and body")
            }
            configs.append(ConsoleConfig(group: ConsoleGroup(project: project, name: group, topic: text("groupTopic") ?? ""),
                                         name: name, kind: kind, body: Array(body.utf8)))
        }
        return configs
    }

    public static func render(_ configs: [ConsoleConfig]) -> [UInt8] {
        let items: [JSONValue] = configs.map { config in
            .object([JSONMember("project", .string(config.group.project)), JSONMember("group", .string(config.group.name)),
                     JSONMember("groupTopic", .string(config.group.topic)), JSONMember("name", .string(config.name)),
                     JSONMember("kind", .string(config.kind.rawValue)),
                     JSONMember("body", .string(String(decoding: config.body, as: UTF8.self)))])
        }
        var bytes = JSONValue.object([JSONMember("version", .int(1)), JSONMember("configs", .array(items))]).bytes
        bytes.append(0x0A)
        return bytes
    }

    /// Replaces the file atomically.
    public static func write(_ configs: [ConsoleConfig], to path: String) throws(SystemError) {
        let temporary = path + ".tmp"
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = try systemCall("open", path: temporary) { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        do {
            try writeAll(fd, render(configs), path: temporary)
            _ = try systemCall("fsync", path: temporary) { fsync(fd) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        _ = try systemCall("rename", path: path) { rename(temporary, path) }
        let parent = directory.isEmpty ? "." : directory
        let dir = try systemCall("open", path: parent) { open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(dir) }
        _ = try systemCall("fsync", path: parent) { fsync(dir) }
    }
}
