// ConsoleAnswer.swift
//
// Reads the few fields the poller needs from control-plane answers, with the shapes of
// shared/docs/SLS-CONTROL-PLANE.md (the JSON goes through the configuration reader, so positions and
// escapes are handled once):
//
//   ListProject       {"count":2,"total":3,"projects":[{"projectName":"a",...},...]}  -> page of ["a", ...]
//   ListMachineGroup  {"count":1,"total":1,"machinegroups":["web"]}                   -> page of ["web"]
//   GetMachineGroup   {"groupName":"web","machineIdentifyType":"userdefined","machineList":["id"],
//                      "groupAttribute":{"groupTopic":"t"}}                           -> identity, list, topic
//   GetAppliedConfigs {"count":1,"configs":["nginx"]}                                 -> ["nginx"]
//
// Owns that extraction and its errors; does not own what the values mean (ConsoleRounds).

/// One page of a paged listing.
struct ConsolePage: Equatable {
    var count: Int
    var total: Int
    var names: [String]
}

enum ConsoleAnswer {
    static func document(_ body: [UInt8], call: String) throws(ConsoleError) -> ConfigValue {
        let documents: [ConfigValue]
        do { documents = try YAMLReader.documents(body, file: call) } catch {
            throw .malformed(call: call, "not JSON: \(error.message)")
        }
        guard let root = documents.first(where: { !$0.isNull }), case .mapping = root.node else {
            throw .malformed(call: call, "expected a JSON object")
        }
        return root
    }

    /// `count`, `total` and the names under `key`; for ListProject each item is an object and `nameKey`
    /// (`projectName`) names the field that holds the name.
    static func page(_ root: ConfigValue, key: String, nameKey: String? = nil, call: String) throws(ConsoleError) -> ConsolePage {
        let count = try integer(root, "count", call: call)
        let total = try integer(root, "total", call: call)
        var names: [String] = []
        for item in try list(root, key, call: call) {
            let holder = nameKey.flatMap { item.member($0) } ?? item
            guard let name = scalar(holder) else { throw .malformed(call: call, "\(key) holds a non-name item") }
            names.append(name)
        }
        return ConsolePage(count: count, total: total, names: names)
    }

    /// `configs` of GetAppliedConfigs (no paging).
    static func appliedConfigs(_ root: ConfigValue, call: String) throws(ConsoleError) -> [String] {
        try list(root, "configs", call: call).map { item throws(ConsoleError) in
            guard let name = scalar(item) else { throw .malformed(call: call, "configs holds a non-name item") }
            return name
        }
    }

    /// Whether a GetMachineGroup answer names one of `ids` as a custom identifier, and its topic.
    static func group(_ root: ConfigValue, ids: Set<String>, call: String) throws(ConsoleError) -> (applies: Bool, topic: String) {
        let type = root.member("machineIdentifyType").flatMap(scalar) ?? ""
        let machines = try list(root, "machineList", call: call).compactMap(scalar)
        let topic = root.member("groupAttribute")?.member("groupTopic").flatMap(scalar) ?? ""
        return (type == "userdefined" && machines.contains(where: ids.contains), topic)
    }

    static func scalar(_ value: ConfigValue) -> String? {
        if case .scalar(let text, _) = value.node, !value.isNull { return text }
        return nil
    }

    private static func integer(_ root: ConfigValue, _ key: String, call: String) throws(ConsoleError) -> Int {
        guard let value = root.member(key), let text = scalar(value), let number = Int(text), number >= 0 else {
            throw .malformed(call: call, "\(key) is missing or not a count")
        }
        return number
    }

    private static func list(_ root: ConfigValue, _ key: String, call: String) throws(ConsoleError) -> [ConfigValue] {
        guard let value = root.member(key), !value.isNull else { return [] }
        guard case .sequence(let items) = value.node else { throw .malformed(call: call, "\(key) is not a list") }
        return items
    }
}
