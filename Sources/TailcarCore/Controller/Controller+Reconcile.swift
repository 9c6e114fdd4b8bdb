// Controller+Reconcile.swift
//
// Reconciling due resources while this replica leads: each one goes through the same Bootstrapper as
// `tailcar bootstrap` (project; logstore with the vendor controller's settings; its default Kubernetes index;
// machine groups; the Logtail config, created or updated; its application to each group), then its status subresource is patched as the vendor's controller
// writes it. The lease is renewed between SLS calls when a retry period has passed, so a slow SLS does
// not cost the lease (each call is bounded by the SLS timeouts). A failure is retried after a back-off that
// doubles per failure of that resource; others go on. A spec that does not validate is reported once and
// waits for a changed spec. A reconciled resource is reconciled again after the resync period; its status
// is written only when it would say something else.
//
//   success: {"status":{"status":"OK","statusCode":200,"observedGeneration":3,"lastUpdateTime":"..."}}
//   failure: {"status":{"status":"SignatureNotMatch","statusCode":401,"errorCode":"SignatureNotMatch",
//             "errorMessage":"...","requestId":"5F1C...","step":"project k8s-demo","retryCount":2,...}}

extension Controller {
    func scheduleWork() {
        guard !stopping, let next = table.values.compactMap(\.dueAt).min() else { return }
        let now = Self.monotonicMilliseconds()
        workTimer.stop()
        workTimer.start(afterMilliseconds: next > now ? next - now : 0)
    }

    /// Reconciles every due resource, oldest due first, renewing the lease in between.
    func work() {
        guard !stopping else { return }
        while isLeader, !stopping {
            let now = Self.monotonicMilliseconds()
            guard let key = table.filter({ ($0.value.dueAt ?? .max) <= now })
                    .min(by: { ($0.value.dueAt!, $0.key) < ($1.value.dueAt!, $1.key) })?.key else { break }
            reconcile(key)
            renewIfDue()
        }
        if isLeader { scheduleWork() }
    }

    private func reconcile(_ key: ResourceKey) {
        guard var tracked = table[key] else { return }
        let object = tracked.object
        let status: [JSONMember]
        switch object.pipeline(options.defaults) {
        case .failure(let problem):
            tracked.doneGeneration = object.generation
            tracked.dueAt = nil
            tracked.failures = 1
            log.record(.reconcileFailed(resource: key, generation: object.generation, reason: problem.description,
                                        attempt: 1, retryInMilliseconds: 0))
            status = statusFields(["status": .string("InvalidSpec"), "statusCode": .int(400),
                                   "errorCode": .string("InvalidSpec"), "errorMessage": .string(problem.description)], object)
        case .success(let pipeline):
            let bootstrapper = Bootstrapper(credentials: credentials, caFile: options.slsCAFile,
                                            timeouts: options.slsTimeouts)
            bootstrapper.updatesConfigs = true
            bootstrapper.kubernetesIndexDocValue = object.document.member("spec")?.member("logstoreMode")?.text != "query"
            bootstrapper.logstoreSettings = object.logstoreSettings
            bootstrapper.projectDescription = "k8s log project, created by tailcar controller"
            let steps = bootstrapper.run([pipeline]) { _ in self.renewIfDue() }
            if let failed = steps.first(where: { $0.outcome.isFailure }), case .failed(let error) = failed.outcome {
                tracked.failures += 1
                let delay = min(options.retryMaximumMilliseconds,
                                options.retryMinimumMilliseconds << UInt64(min(tracked.failures - 1, 20)))
                tracked.dueAt = Self.monotonicMilliseconds() + delay
                log.record(.reconcileFailed(resource: key, generation: object.generation,
                                            reason: "\(failed.resource): \(error)", attempt: tracked.failures,
                                            retryInMilliseconds: delay))
                status = statusFields(Self.failureFields(error, step: failed.resource, attempt: tracked.failures), object)
            } else {
                tracked.doneGeneration = object.generation
                tracked.failures = 0
                tracked.dueAt = options.resyncMilliseconds > 0 ? Self.monotonicMilliseconds() + options.resyncMilliseconds : nil
                log.record(.reconciled(resource: key, generation: object.generation, steps: steps.map { $0.description }))
                status = statusFields(["status": .string("OK"), "statusCode": .int(200)], object)
            }
        }
        // The lease was lost during the SLS calls: the new leader reconciles and reports; this replica does
        // it again should it lead again.
        guard isLeader else {
            tracked.dueAt = Self.monotonicMilliseconds()
            table[key] = tracked
            return
        }
        table[key] = tracked
        if !Self.shows(object.document.member("status"), status) { writeStatus(status, for: key) }
    }

    static func failureFields(_ error: BootstrapError, step: String, attempt: Int) -> [String: JSONValue] {
        var fields: [String: JSONValue] = ["step": .string(step), "retryCount": .int(attempt)]
        switch error {
        case .sls(let sls):
            let code = sls.code.isEmpty ? "SLSError" : sls.code
            fields["status"] = .string(code)
            fields["statusCode"] = .int(sls.status)
            fields["errorCode"] = .string(code)
            fields["errorMessage"] = .string(sls.message)
            fields["requestId"] = .string(sls.requestID ?? "")
        case .transport(let reason):
            fields["status"] = .string("SLSUnreachable")
            fields["statusCode"] = .int(0)
            fields["errorCode"] = .string("SLSUnreachable")
            fields["errorMessage"] = .string(reason)
        case .unusable(let reason):
            fields["status"] = .string("InvalidSpec")
            fields["statusCode"] = .int(400)
            fields["errorCode"] = .string("InvalidSpec")
            fields["errorMessage"] = .string(reason)
        }
        return fields
    }

    /// The status fields the controller writes, every one of them (a null clears the error fields of an
    /// earlier failure in the merge patch), without the time.
    private func statusFields(_ fields: [String: JSONValue], _ object: LogConfigObject) -> [JSONMember] {
        var members: [JSONMember] = []
        for name in ["status", "statusCode", "errorCode", "errorMessage", "requestId", "step", "retryCount"] {
            members.append(JSONMember(name, fields[name] ?? .null))
        }
        members.append(JSONMember("observedGeneration", .int(object.generation)))
        return members
    }

    /// Whether the resource's status already says what `fields` say (then a resync writes nothing, and the
    /// resource does not change for nothing). A null field must be absent.
    static func shows(_ current: ConfigValue?, _ fields: [JSONMember]) -> Bool {
        guard let current, case .mapping = current.node else { return false }
        return fields.allSatisfy { field in
            guard let value = current.member(field.key), !value.isNull else { return field.value == .null }
            return BootstrapPlan.json(value) == field.value
        }
    }

    private func writeStatus(_ fields: [JSONMember], for key: ResourceKey) {
        let time = rfc3339(epochSeconds: Self.epochClock().seconds)
        let patch = JSONValue.object([JSONMember("status", .object(fields + [JSONMember("lastUpdateTime", .string(time))]))])
        switch api.patchStatus(.aliyunLogConfigs, namespace: key.namespace, name: key.name, patch) {
        case .success: break
        case .failure(let error) where error.code == 404: break  // deleted meanwhile: its DELETED event follows
        case .failure(let error): log.record(.statusFailed(resource: key, reason: error.description))
        }
    }
}
