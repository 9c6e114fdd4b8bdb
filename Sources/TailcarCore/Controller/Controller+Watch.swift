// Controller+Watch.swift
//
// Keeping the resource table in step with the API, as client-go's reflector does: list (the table becomes
// the list; what vanished counts as deleted), then watch from the list's resourceVersion with bookmarks;
// each event moves the version on. A stream the server ends is watched again at once from that version; a
// dropped or refused stream is watched again after a back-off (200 ms doubling to the maximum); `410 Gone`
// (as an HTTP status or an ERROR event) means the version is too old: list again.
//
//   {"type":"MODIFIED","object":{"metadata":{"name":"web","generation":3,"resourceVersion":"812"},...}}
//     -> table[default/web] generation 3 -> due now (a changed spec); version 812

extension Controller {
    func relist() {
        guard !stopping else { return }
        watch?.cancel()
        watch = nil
        watchPhase = .listing
        switch api.list(.aliyunLogConfigs, namespace: options.watchNamespace) {
        case .failure(let error):
            retryWatch(after: "list failed: \(error)", relisting: true)
        case .success(let (items, listVersion)):
            let objects = items.compactMap(LogConfigObject.init)
            let present = Set(objects.map(\.key))
            for key in table.keys where !present.contains(key) { forget(key) }
            for object in objects { upsert(object) }
            version = listVersion
            log.record(.listed(resources: objects.count, version: listVersion))
            startWatch()
            scheduleWork()
        }
    }

    private func startWatch() {
        guard !stopping else { return }
        let request: [UInt8]
        switch api.watchRequest(.aliyunLogConfigs, namespace: options.watchNamespace, from: version,
                                timeoutSeconds: options.watchTimeoutSeconds) {
        case .failure(let error): retryWatch(after: error.description, relisting: false); return
        case .success(let bytes): request = bytes
        }
        let stream: WatchStream
        do {
            stream = try WatchStream(loop: loop, endpoint: options.access.endpoint, serverName: options.access.serverName,
                                     tlsContext: api.tlsContext, request: request,
                                     idleMilliseconds: UInt64(options.watchTimeoutSeconds + 60) * 1000)
        } catch {
            retryWatch(after: error.description, relisting: false)
            return
        }
        stream.onLine = { [unowned self, unowned stream] line in self.handle(line, from: stream) }
        stream.onEnd = { [unowned self, unowned stream] end in self.ended(end, stream: stream) }
        watch = stream
        watchPhase = .streaming
        stream.open()
    }

    private func ended(_ end: WatchEnd, stream: WatchStream) {
        guard watch === stream else { return }
        watch = nil
        switch end {
        case .completed:
            watchFailures = 0
            startWatch()
        case .refused(let status, _) where status == 410:
            log.record(.relisting(reason: "410 Gone: resourceVersion \(version) is too old"))
            relist()
        case .refused, .failed:
            retryWatch(after: end.description, relisting: false)
        }
    }

    private func retryWatch(after reason: String, relisting: Bool) {
        watchFailures += 1
        let delay = min(options.watchRetryMaximumMilliseconds, 200 << UInt64(min(watchFailures - 1, 16)))
        log.record(.watchEnded(reason: reason, retryInMilliseconds: delay))
        watchPhase = .waiting
        watchTimer.onFire = { [unowned self] in
            if relisting || self.version.isEmpty { self.relist() } else { self.startWatch() }
        }
        watchTimer.stop()
        watchTimer.start(afterMilliseconds: delay)
    }

    private func handle(_ line: [UInt8], from stream: WatchStream) {
        guard watch === stream else { return }
        let event: ConfigValue
        do {
            guard let first = try YAMLReader.documents(line, file: "watch event").first else { return }
            event = first
        } catch {
            stream.cancel()
            watch = nil
            retryWatch(after: "an event that is not JSON: \(error)", relisting: false)
            return
        }
        guard let type = event.member("type")?.text, let object = event.member("object") else { return }
        watchFailures = 0
        switch type {
        case "ADDED", "MODIFIED":
            guard let parsed = LogConfigObject(object) else { return }
            upsert(parsed)
            version = parsed.resourceVersion.isEmpty ? version : parsed.resourceVersion
            scheduleWork()
        case "DELETED":
            guard let parsed = LogConfigObject(object) else { return }
            forget(parsed.key)
            version = parsed.resourceVersion.isEmpty ? version : parsed.resourceVersion
        case "BOOKMARK":
            if let bookmark = object.member("metadata")?.member("resourceVersion")?.text { version = bookmark }
        case "ERROR":
            let code = object.member("code")?.text.flatMap { Int($0) } ?? 0
            let message = object.member("message")?.text ?? ""
            stream.cancel()
            watch = nil
            if code == 410 {
                log.record(.relisting(reason: "410 Gone: \(message)"))
                relist()
            } else {
                retryWatch(after: "ERROR event \(code): \(message)", relisting: false)
            }
        default:
            return
        }
    }

    /// A new resource, a re-created one (another uid) or a changed spec (another generation) is due now;
    /// a status-only change (the controller's own patch) changes nothing.
    func upsert(_ object: LogConfigObject) {
        guard var tracked = table[object.key], tracked.object.uid == object.uid else {
            table[object.key] = Tracked(object: object, dueAt: Self.monotonicMilliseconds())
            return
        }
        let changed = tracked.object.generation != object.generation
        tracked.object = object
        if changed || (tracked.doneGeneration != object.generation && tracked.dueAt == nil) {
            tracked.failures = 0
            tracked.dueAt = Self.monotonicMilliseconds()
        }
        table[object.key] = tracked
    }

    private func forget(_ key: ResourceKey) {
        guard table.removeValue(forKey: key) != nil else { return }
        log.record(.deleted(resource: key))
    }
}
