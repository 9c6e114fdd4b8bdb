// SidecarInjector.swift
//
// `tailcar inject`, like `istioctl kube-inject`: adds the Tailcar sidecar to the pod template of every
// Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and CronJob in a manifest (and inside a List),
// passing other kinds through. What it adds to a pod (SidecarContainer.swift builds the container):
//
//   initContainers[0]  tailcar, restartPolicy: Always (a native sidecar, Kubernetes 1.29+), or with
//                      `classic` a regular container appended to containers
//   volumes            the log directory's volume (an emptyDir `tailcar-logs`, unless an application
//                      container already mounts a volume there: that one is shared), `tailcar-state`
//                      (emptyDir: checkpoints outlive a sidecar restart), `tailcar-config` (the ConfigMap
//                      of pipelines or AliyunLogConfig resources); classic Jobs also `tailcar-tasksite`
//                      (the cornerstone/tombstone handshake, mounted at /tasksite in every container)
//   every container    a mount of the log volume at the log directory, where it has none
//
// A pod that already has a container of the sidecar's name is left as it is (injecting twice changes
// nothing), with a note. Owns the transformation; not reading files or the command line.

public struct InjectionOptions: Sendable {
    /// The application's log directory, shared with the sidecar (absolute).
    public var logDirectory: String
    public var image: String
    /// The ConfigMap mounted at /etc/tailcar/conf.d (TAILCAR_CONFIG).
    public var configMap: String
    /// A native sidecar (init container, restartPolicy Always); false: a regular container.
    public var nativeSidecar: Bool
    public var containerName: String
    /// ALIYUN_LOGTAIL_USER_ID, when given.
    public var userID: String?
    /// ALIYUN_LOGTAIL_USER_DEFINED_ID; nil: the workload's name.
    public var userDefinedID: String?
    /// `cn-hangzhou` or `cn-hangzhou-internet`: ALIYUN_LOGTAIL_CONFIG=/etc/ilogtail/conf/<region>/ilogtail_config.json.
    public var region: String?
    /// The sidecar's --stop-delay in seconds (the vendor's run_logtail.sh 10).
    public var stopDelaySeconds: Int

    public init(logDirectory: String, image: String, configMap: String = "tailcar-config", nativeSidecar: Bool = true,
                containerName: String = "tailcar", userID: String? = nil, userDefinedID: String? = nil,
                region: String? = nil, stopDelaySeconds: Int = 10) {
        self.logDirectory = logDirectory
        self.image = image
        self.configMap = configMap
        self.nativeSidecar = nativeSidecar
        self.containerName = containerName
        self.userID = userID
        self.userDefinedID = userDefinedID
        self.region = region
        self.stopDelaySeconds = stopDelaySeconds
    }
}

public enum InjectError: Error, Equatable, Sendable, CustomStringConvertible {
    case yaml(YAMLTreeError)
    case notAnObject(document: Int)
    case noPodSpec(document: Int, kind: String, name: String, path: String)
    case invalidOption(String)

    public var description: String {
        switch self {
        case .yaml(let error): return error.description
        case .notAnObject(let document): return "document \(document): expected a Kubernetes object (a mapping)"
        case .noPodSpec(let document, let kind, let name, let path):
            return "document \(document): \(kind) \(name) has no pod template at \(path)"
        case .invalidOption(let what): return what
        }
    }
}

public struct SidecarInjector {
    let options: InjectionOptions
    /// What happened that the user should know, one line each ("Job/x: injected as a native sidecar").
    public private(set) var notes: [String] = []

    public init(options: InjectionOptions) throws(InjectError) {
        guard options.logDirectory.hasPrefix("/") else {
            throw .invalidOption("--log-dir must be an absolute path, got \"\(options.logDirectory)\"")
        }
        guard !options.image.isEmpty, !options.configMap.isEmpty, !options.containerName.isEmpty else {
            throw .invalidOption("--image, --config-map and --name must not be empty")
        }
        var trimmed = options
        while trimmed.logDirectory.count > 1 && trimmed.logDirectory.hasSuffix("/") { trimmed.logDirectory.removeLast() }
        self.options = trimmed
    }

    /// Where each kind keeps its pod spec.
    static func podSpecPath(_ kind: String) -> [String]? {
        switch kind {
        case "Pod": return ["spec"]
        case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController":
            return ["spec", "template", "spec"]
        case "CronJob": return ["spec", "jobTemplate", "spec", "template", "spec"]
        default: return nil
        }
    }

    /// Every document with the sidecar added where it belongs; null documents are dropped.
    public mutating func inject(_ documents: [YAMLTree]) throws(InjectError) -> [YAMLTree] {
        var result: [YAMLTree] = []
        for (index, document) in documents.enumerated() {
            if case .scalar(let text, .plain, nil) = document, text.isEmpty || text == "null" || text == "~" { continue }
            result.append(try inject(document, number: index + 1))
        }
        return result
    }

    private mutating func inject(_ object: YAMLTree, number: Int) throws(InjectError) -> YAMLTree {
        guard object.isMapping else { throw .notAnObject(document: number) }
        let kind = object["kind"]?.text ?? ""
        if kind.hasSuffix("List"), let items = object["items"]?.items {
            var list = object
            var injected: [YAMLTree] = []
            for item in items { injected.append(try inject(item, number: number)) }
            list["items"] = .sequence(injected, flow: false)
            return list
        }
        guard let path = Self.podSpecPath(kind) else { return object }
        let name = object[path: ["metadata", "name"]]?.text ?? object[path: ["metadata", "generateName"]]?.text ?? "(unnamed)"
        guard let spec = object[path: path], spec.isMapping else {
            throw .noPodSpec(document: number, kind: kind, name: name, path: path.joined(separator: "."))
        }
        let label = "\(kind)/\(name)"
        let containers = (spec["initContainers"]?.items ?? []) + (spec["containers"]?.items ?? [])
        if containers.contains(where: { $0["name"]?.text == options.containerName }) {
            notes.append("\(label): already has a container named \(options.containerName); left as it is")
            return object
        }
        if let grace = spec["terminationGracePeriodSeconds"]?.text.flatMap({ Int($0) }), grace <= options.stopDelaySeconds {
            notes.append("\(label): terminationGracePeriodSeconds \(grace) does not exceed the sidecar's stop delay "
                         + "\(options.stopDelaySeconds) s: the kubelet may kill it before it delivered everything")
        }
        let isJob = kind == "Job" || kind == "CronJob"
        var updated = object
        updated[path: path] = injectPod(spec, workloadName: name, handshake: isJob && !options.nativeSidecar)
        if options.nativeSidecar {
            notes.append("\(label): injected \(options.containerName) as a native sidecar (needs Kubernetes 1.29+; --classic for older clusters)")
        } else if isJob {
            notes.append("\(label): injected \(options.containerName) as a regular container: the application must "
                         + "`touch /tasksite/tombstone` when it is done, or the \(kind) never completes")
        } else {
            notes.append("\(label): injected \(options.containerName) as a regular container")
        }
        return updated
    }

    /// The pod spec with volumes, mounts and the sidecar.
    private func injectPod(_ spec: YAMLTree, workloadName: String, handshake: Bool) -> YAMLTree {
        var spec = spec
        var volumes = spec["volumes"]?.items ?? []
        var taken = Set(volumes.compactMap { $0["name"]?.text })
        func unique(_ base: String) -> String {
            var name = base
            var counter = 2
            while taken.contains(name) { name = "\(base)-\(counter)"; counter += 1 }
            taken.insert(name)
            return name
        }
        let logVolume: String
        if let shared = existingLogVolume(spec) {
            logVolume = shared
        } else {
            logVolume = unique("tailcar-logs")
            volumes.append(.map([("name", .string(logVolume)), ("emptyDir", .mapping([], flow: true))]))
        }
        let stateVolume = unique("tailcar-state")
        volumes.append(.map([("name", .string(stateVolume)), ("emptyDir", .mapping([], flow: true))]))
        let configVolume = unique("tailcar-config")
        volumes.append(.map([("name", .string(configVolume)), ("configMap", .map([("name", .string(options.configMap))]))]))
        var taskVolume: String?
        if handshake {
            let name = unique("tailcar-tasksite")
            volumes.append(.map([("name", .string(name)), ("emptyDir", .map([("medium", .string("Memory"))]))]))
            taskVolume = name
        }
        spec["volumes"] = .sequence(volumes, flow: false)
        if let items = spec["containers"]?.items {
            spec["containers"] = .sequence(items.map { container in
                var container = mounting(container, volume: logVolume, at: options.logDirectory, readOnly: false)
                if let taskVolume { container = mounting(container, volume: taskVolume, at: SidecarContainer.taskDirectory, readOnly: false) }
                return container
            }, flow: false)
        }
        let sidecar = SidecarContainer(options: options).build(
            userDefinedID: options.userDefinedID ?? workloadName,
            volumes: .init(logs: logVolume, state: stateVolume, config: configVolume, task: taskVolume))
        if options.nativeSidecar {
            spec["initContainers"] = .sequence([sidecar] + (spec["initContainers"]?.items ?? []), flow: false)
        } else {
            spec["containers"] = .sequence((spec["containers"]?.items ?? []) + [sidecar], flow: false)
        }
        return spec
    }

    /// The volume an application container already mounts at the log directory, if any.
    private func existingLogVolume(_ spec: YAMLTree) -> String? {
        for container in spec["containers"]?.items ?? [] {
            for mount in container["volumeMounts"]?.items ?? [] {
                guard let path = mount["mountPath"]?.text, let name = mount["name"]?.text else { continue }
                var trimmed = path
                while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
                if trimmed == options.logDirectory { return name }
            }
        }
        return nil
    }

    /// The container with a mount of `volume` at `path`, unless something is mounted there already.
    private func mounting(_ container: YAMLTree, volume: String, at path: String, readOnly: Bool) -> YAMLTree {
        var mounts = container["volumeMounts"]?.items ?? []
        if mounts.contains(where: { $0["mountPath"]?.text == path }) { return container }
        var mount: [(String, YAMLTree)] = [("name", .string(volume)), ("mountPath", .string(path))]
        if readOnly { mount.append(("readOnly", .bool(true))) }
        mounts.append(.map(mount))
        var container = container
        container["volumeMounts"] = .sequence(mounts, flow: false)
        return container
    }
}
