// ConsoleRounds.swift
//
// The two rounds of control-plane calls as work queues, free of I/O so they are tested on their own: the
// poller asks for `next`, sends it, and hands the answer to `take`, which may queue more calls (the next
// page, each group's details, a config's other form).
//
//   discovery (every 5 min):  ListProject pages (unless the projects are given)
//                             -> ListMachineGroup pages per project -> GetMachineGroup per group
//                             => the groups whose custom identifiers name one of our ids
//   poll (every 10 s):        GetAppliedConfigs per group -> GetConfig per config name not seen yet
//                             (GetLogtailPipelineConfig when /configs says ConfigNotExist, or the name was
//                             a pipeline config last time) => the configs, bodies as answered
//
// A page is followed while it held names and `offset + count < total`, as the SDK's `list_more` does. A
// 404 with a not-exist code (ProjectNotExist, GroupNotExist, MachineGroupNotExist, ConfigNotExist) means
// the thing is gone: it contributes nothing. Owns the call order and what each answer adds; does not own
// sending, timing or errors other than those (ConsolePoller).

/// An answer the rounds understand: a JSON object, or "that does not exist".
enum ConsoleReply {
    case found(ConfigValue, body: [UInt8])
    case gone(SLSError)

    /// The not-exist codes of the calls the rounds make (with 404); everything else is an error.
    static let goneCodes: Set<String> = ["ProjectNotExist", "GroupNotExist", "MachineGroupNotExist", "ConfigNotExist"]
}

struct DiscoveryRound {
    enum Step: Equatable {
        case listProjects(offset: Int)
        case listGroups(project: String, offset: Int)
        case describeGroup(project: String, group: String)

        var call: (project: String, call: ControlPlaneCall) {
            switch self {
            case .listProjects(let offset): return ("", .listProjects(offset: offset, size: DiscoveryRound.pageSize))
            case let .listGroups(project, offset):
                return (project, .listMachineGroups(offset: offset, size: DiscoveryRound.pageSize))
            case let .describeGroup(project, group): return (project, .getMachineGroup(group))
            }
        }
    }

    /// The API's largest page (the SDK's MAX_LIST_PAGING_SIZE).
    static let pageSize = 500

    let ids: Set<String>
    private(set) var queue: [Step]
    private(set) var matched: [ConsoleGroup] = []
    private(set) var projects: [String] = []
    private(set) var groupsSeen = 0

    /// `projects` nil: every project ListProject shows.
    init(projects: [String]?, ids: [String]) {
        self.ids = Set(ids)
        if let projects {
            self.projects = projects
            queue = projects.map { .listGroups(project: $0, offset: 0) }
        } else {
            queue = [.listProjects(offset: 0)]
        }
    }

    var next: Step? { queue.first }

    mutating func take(_ reply: ConsoleReply, call name: String) throws(ConsoleError) {
        let step = queue.removeFirst()
        guard case .found(let root, _) = reply else { return }
        switch step {
        case .listProjects(let offset):
            let page = try ConsoleAnswer.page(root, key: "projects", nameKey: "projectName", call: name)
            let fresh = page.names.filter { Bootstrapper.isPathSafe($0) && !projects.contains($0) }
            projects += fresh
            queue += fresh.map { .listGroups(project: $0, offset: 0) }
            if page.count > 0, offset + page.count < page.total { queue.append(.listProjects(offset: offset + page.count)) }
        case let .listGroups(project, offset):
            let page = try ConsoleAnswer.page(root, key: "machinegroups", call: name)
            groupsSeen += page.names.count
            queue += page.names.filter(Bootstrapper.isPathSafe).map { .describeGroup(project: project, group: $0) }
            if page.count > 0, offset + page.count < page.total {
                queue.append(.listGroups(project: project, offset: offset + page.count))
            }
        case let .describeGroup(project, group):
            let found = try ConsoleAnswer.group(root, ids: ids, call: name)
            if found.applies { matched.append(ConsoleGroup(project: project, name: group, topic: found.topic)) }
        }
    }
}

struct PollRound {
    enum Step: Equatable {
        case applied(ConsoleGroup)
        case config(ConsoleGroup, name: String, kind: ConsoleConfig.Kind)

        var call: (project: String, call: ControlPlaneCall) {
            switch self {
            case .applied(let group): return (group.project, .listAppliedConfigs(machineGroup: group.name))
            case let .config(group, name, .logtail): return (group.project, .getConfig(name))
            case let .config(group, name, .pipeline): return (group.project, .getPipelineConfig(name))
            }
        }
    }

    private(set) var queue: [Step]
    private(set) var configs: [ConsoleConfig] = []
    /// `project/config` -> the form it was found in, carried from round to round.
    private(set) var kinds: [String: ConsoleConfig.Kind]
    private var asked: Set<String> = []

    init(groups: [ConsoleGroup], kinds: [String: ConsoleConfig.Kind]) {
        queue = groups.map { .applied($0) }
        self.kinds = kinds
    }

    var next: Step? { queue.first }

    mutating func take(_ reply: ConsoleReply, call name: String) throws(ConsoleError) {
        let step = queue.removeFirst()
        switch (step, reply) {
        case (.applied(let group), .found(let root, _)):
            for config in try ConsoleAnswer.appliedConfigs(root, call: name) where Bootstrapper.isPathSafe(config) {
                let key = "\(group.project)/\(config)"
                guard asked.insert(key).inserted else { continue }
                let kind = kinds[key] ?? .logtail
                asked.insert("\(key)#\(kind.rawValue)")
                queue.append(.config(group, name: config, kind: kind))
            }
        case (.applied, .gone):
            break
        case let (.config(group, config, kind), .found(_, body)):
            kinds["\(group.project)/\(config)"] = kind
            configs.append(ConsoleConfig(group: group, name: config, kind: kind, body: body))
        case let (.config(group, config, kind), .gone):
            // Asked in the other form only once per round: a name in neither form was removed.
            let other: ConsoleConfig.Kind = kind == .logtail ? .pipeline : .logtail
            guard asked.insert("\(group.project)/\(config)#\(other.rawValue)").inserted else { return }
            queue.insert(.config(group, name: config, kind: other), at: 0)
        }
    }
}
