// SidecarContainer.swift
//
// The container `tailcar inject` adds, the same as deploy/kubernetes/job-native-sidecar.yaml's but
// configured through the environment alone (`tailcar run` with no arguments):
//
//   - name: tailcar
//     restartPolicy: Always                       (native sidecar only)
//     image: ...
//     command: ["tailcar"]
//     args: ["run", "--stop-delay", "10"]
//     livenessProbe: {exec: {command: ["tailcar", "status"]}, initialDelaySeconds: 30, periodSeconds: 30}
//     resources: the vendor's (requests cpu 10m, memory 30Mi; limit memory 512Mi)
//     securityContext: non-root 65532, read-only root file system, no capabilities
//     envFrom: the optional Secret tailcar-sls-credentials
//     env: ALIYUN_LOGTAIL_USER_ID (when given), ALIYUN_LOGTAIL_USER_DEFINED_ID, ALIYUN_LOGTAIL_CONFIG (when a
//          region is given), ALIYUN_LOG_ENV_TAGS and _pod_name_ _pod_ip_ _namespace_ _node_name_ _node_ip_
//          from the Downward API, TAILCAR_CONFIG, TAILCAR_CHECKPOINT_DIR, TAILCAR_TASK_DIR (classic Jobs)
//     volumeMounts: the log directory (read-only), /etc/tailcar/conf.d, /var/lib/tailcar, /tasksite
//
// Owns that shape; where it goes in the pod is SidecarInjector's.

struct SidecarContainer {
    static let configDirectory = "/etc/tailcar/conf.d"
    static let stateDirectory = "/var/lib/tailcar"
    static let taskDirectory = "/tasksite"
    /// The Logtail sidecar's tag variables and the Downward API field each comes from.
    static let envTags: [(String, String)] = [("_pod_name_", "metadata.name"), ("_pod_ip_", "status.podIP"),
                                              ("_namespace_", "metadata.namespace"), ("_node_name_", "spec.nodeName"),
                                              ("_node_ip_", "status.hostIP")]

    struct Volumes {
        var logs: String
        var state: String
        var config: String
        var task: String?
    }

    let options: InjectionOptions

    func build(userDefinedID: String, volumes: Volumes) -> YAMLTree {
        var fields: [(String, YAMLTree)] = [("name", .string(options.containerName))]
        if options.nativeSidecar { fields.append(("restartPolicy", .string("Always"))) }
        fields += [
            ("image", .string(options.image)),
            ("command", .inlineList(["tailcar"])),
            ("args", .inlineList(["run", "--stop-delay", String(options.stopDelaySeconds)])),
            ("livenessProbe", .map([("exec", .map([("command", .inlineList(["tailcar", "status"]))])),
                                    ("initialDelaySeconds", .int(30)), ("periodSeconds", .int(30))])),
            ("resources", .map([("limits", .map([("memory", .string("512Mi"))])),
                                ("requests", .map([("cpu", .string("10m")), ("memory", .string("30Mi"))]))])),
            ("securityContext", securityContext()),
            ("envFrom", .list([.map([("secretRef", .map([("name", .string("tailcar-sls-credentials")),
                                                          ("optional", .bool(true))]))])])),
            ("env", .list(environment(userDefinedID: userDefinedID, handshake: volumes.task != nil))),
            ("volumeMounts", .list(mounts(volumes))),
        ]
        return .map(fields)
    }

    private func securityContext() -> YAMLTree {
        .map([("runAsNonRoot", .bool(true)), ("runAsUser", .int(65532)), ("runAsGroup", .int(65532)),
              ("readOnlyRootFilesystem", .bool(true)), ("allowPrivilegeEscalation", .bool(false)),
              ("capabilities", .map([("drop", .inlineList(["ALL"]))]))])
    }

    private func environment(userDefinedID: String, handshake: Bool) -> [YAMLTree] {
        func value(_ name: String, _ text: String) -> YAMLTree {
            .map([("name", .string(name)), ("value", .scalar(text, style: .doubleQuoted, tag: nil))])
        }
        var env: [YAMLTree] = []
        if let userID = options.userID { env.append(value("ALIYUN_LOGTAIL_USER_ID", userID)) }
        env.append(value("ALIYUN_LOGTAIL_USER_DEFINED_ID", userDefinedID))
        if let region = options.region {
            env.append(value("ALIYUN_LOGTAIL_CONFIG", "/etc/ilogtail/conf/\(region)/ilogtail_config.json"))
        }
        env.append(value("ALIYUN_LOG_ENV_TAGS", Self.envTags.map(\.0).joined(separator: "|")))
        for (name, field) in Self.envTags {
            env.append(.map([("name", .string(name)),
                             ("valueFrom", .map([("fieldRef", .map([("fieldPath", .string(field))]))]))]))
        }
        env.append(value("TAILCAR_CONFIG", Self.configDirectory))
        env.append(value("TAILCAR_CHECKPOINT_DIR", Self.stateDirectory))
        if handshake { env.append(value("TAILCAR_TASK_DIR", Self.taskDirectory)) }
        return env
    }

    private func mounts(_ volumes: Volumes) -> [YAMLTree] {
        func mount(_ name: String, _ path: String, readOnly: Bool) -> YAMLTree {
            var fields: [(String, YAMLTree)] = [("name", .string(name)), ("mountPath", .string(path))]
            if readOnly { fields.append(("readOnly", .bool(true))) }
            return .map(fields)
        }
        var list = [mount(volumes.logs, options.logDirectory, readOnly: true),
                    mount(volumes.config, Self.configDirectory, readOnly: true),
                    mount(volumes.state, Self.stateDirectory, readOnly: false)]
        if let task = volumes.task { list.append(mount(task, Self.taskDirectory, readOnly: false)) }
        return list
    }
}
