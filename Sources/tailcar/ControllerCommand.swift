// ControllerCommand.swift
//
// `tailcar controller [options]`: the cluster side of the AliyunLogConfig resources. Reads where the
// Kubernetes API is (--kubeconfig, $KUBECONFIG, else the pod's service account), the SLS endpoint and the
// controller's defaults (the vendor controller's ALICLOUD_LOG_ENDPOINT, ALICLOUD_LOG_PROJECT,
// ALICLOUD_LOG_MACHINE_GROUP), the AccessKey (as bootstrap), and the lease; then runs the Controller until
// SIGTERM. Exit 2 for a usage or setup error. TAILCAR_SERVICE_ACCOUNT_DIR moves the service account's
// directory (a projected volume mounted elsewhere; the tests).

import Glibc
import TailcarCore

enum ControllerCommand {
    static func run(_ arguments: ArraySlice<String>, environment: Environment) -> Int32 {
        let options: ControllerOptions
        let credentials: CredentialSource
        do throws(UsageError) {
            let parsed = try Arguments(arguments, valued: [
                "kubeconfig", "context", "namespace", "sls-endpoint", "default-project", "default-machine-group",
                "lease-name", "lease-namespace", "lease-duration", "renew-deadline", "retry-period", "identity",
                "http-port", "retry-min", "retry-max", "watch-timeout", "sls-ca-file", "resync",
            ], flags: ["no-leader-election"])
            guard parsed.positional.isEmpty else {
                throw UsageError(description: "unexpected argument \"\(parsed.positional[0])\"")
            }
            let get = environment.lookup
            let access: KubeAPIAccess
            do {
                if let path = parsed.value("kubeconfig") ?? nonEmpty(get("KUBECONFIG")) {
                    access = try KubeAPIAccess.kubeconfig(path: String(path.split(separator: ":").first ?? ""),
                                                          context: parsed.value("context"))
                } else {
                    access = try KubeAPIAccess.inCluster(
                        host: get("KUBERNETES_SERVICE_HOST"), port: get("KUBERNETES_SERVICE_PORT"),
                        directory: nonEmpty(get("TAILCAR_SERVICE_ACCOUNT_DIR")) ?? KubeAPIAccess.serviceAccountDirectory)
                }
            } catch {
                throw UsageError(description: error.description)
            }
            guard let endpoint = parsed.value("sls-endpoint") ?? nonEmpty(get("ALICLOUD_LOG_ENDPOINT")) else {
                throw UsageError(description: "no SLS endpoint: set --sls-endpoint or ALICLOUD_LOG_ENDPOINT "
                                 + "(cn-hangzhou.log.aliyuncs.com)")
            }
            do { _ = try HTTPEndpoint(parsing: endpoint) } catch { throw UsageError(description: error.description) }
            let defaults = ControllerDefaults(
                project: parsed.value("default-project") ?? nonEmpty(get("ALICLOUD_LOG_PROJECT")),
                machineGroup: parsed.value("default-machine-group") ?? nonEmpty(get("ALICLOUD_LOG_MACHINE_GROUP")),
                endpoint: endpoint)
            let source: CredentialSource?
            do { source = try CredentialSource.fromEnvironment(get) } catch {
                throw UsageError(description: error.description)
            }
            guard let source else {
                throw UsageError(description: "no AccessKey: set ALIBABA_CLOUD_ACCESS_KEY_ID and "
                                 + "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or ALIBABA_CLOUD_CREDENTIALS_FILE")
            }
            credentials = source
            let identity = parsed.value("identity") ?? nonEmpty(get("POD_NAME"))
                ?? "\(AgentTags.hostname())_\(getpid())"
            var built = ControllerOptions(access: access, defaults: defaults, identity: identity)
            built.watchNamespace = parsed.value("namespace") ?? nonEmpty(get("WATCH_NAMESPACE"))
            built.slsCAFile = parsed.value("sls-ca-file")
            if !parsed.flag("no-leader-election") {
                var lease = LeaseSettings(name: parsed.value("lease-name") ?? "tailcar-controller",
                                          namespace: parsed.value("lease-namespace") ?? access.namespace,
                                          identity: identity)
                if let duration = try parsed.seconds("lease-duration") {
                    lease.durationSeconds = max(1, Int(duration.components.seconds))
                }
                if let deadline = try parsed.seconds("renew-deadline") { lease.renewDeadlineMilliseconds = milliseconds(deadline) }
                if let period = try parsed.seconds("retry-period") { lease.retryPeriodMilliseconds = max(10, milliseconds(period)) }
                guard lease.renewDeadlineMilliseconds < UInt64(lease.durationSeconds) * 1000,
                      lease.retryPeriodMilliseconds < lease.renewDeadlineMilliseconds else {
                    throw UsageError(description: "expected --retry-period < --renew-deadline < --lease-duration")
                }
                built.lease = lease
            }
            let port = parsed.value("http-port") ?? environment.httpPort ?? "\(defaultHTTPPort)"
            built.httpPort = try parsePort(port, what: parsed.value("http-port") == nil ? "TAILCAR_HTTP_PORT" : "--http-port")
            if let value = try parsed.seconds("retry-min") { built.retryMinimumMilliseconds = max(10, milliseconds(value)) }
            if let value = try parsed.seconds("retry-max") { built.retryMaximumMilliseconds = max(10, milliseconds(value)) }
            if let value = try parsed.seconds("resync") { built.resyncMilliseconds = milliseconds(value) }
            if let value = try parsed.seconds("watch-timeout") { built.watchTimeoutSeconds = max(1, Int(value.components.seconds)) }
            options = built
        } catch {
            printError("tailcar controller: \(error)")
            return 2
        }
        let controller: Controller
        do { controller = try Controller(options: options, credentials: credentials, log: ControllerLog()) } catch {
            printError("tailcar controller: \(error)")
            return 2
        }
        return controller.run()
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    private static func milliseconds(_ duration: Duration) -> UInt64 {
        UInt64(duration.components.seconds) * 1000 + UInt64(duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
