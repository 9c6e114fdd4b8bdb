// ClickHouseBootstrapper.swift
//
// `tailcar bootstrap` for flusher_clickhouse: for every ClickHouse flusher of the loaded pipelines (once per
// endpoint, database and table), asks whether the database and the table exist and creates what is
// missing with the statements the flusher itself sends at start (ClickHouseFormat.createStatements), so a
// table can be made ahead of the first pod. Each resource is one BootstrapStep: exists, created, or failed
// with ClickHouse's answer. The password goes in a header, never in a message.

public enum ClickHouseBootstrapper {
    /// Whether any pipeline ships to ClickHouse.
    public static func hasWork(_ pipelines: [PipelineSettings]) -> Bool {
        pipelines.contains { $0.flushers.contains { if case .clickhouse = $0 { true } else { false } } }
    }

    public static func run(_ pipelines: [PipelineSettings], caFile: String? = nil,
                           report: (BootstrapStep) -> Void) -> [BootstrapStep] {
        var steps: [BootstrapStep] = []
        func record(_ step: BootstrapStep) {
            steps.append(step)
            report(step)
        }
        let session: Session
        do { session = try Session(caFile: caFile, timeouts: HTTPClientTimeouts()) } catch {
            record(BootstrapStep(kind: .clickhouseTable, name: "(all)", outcome: .failed(.transport(error.description))))
            return steps
        }
        var done: Set<String> = []
        for pipeline in pipelines {
            for case .clickhouse(let settings) in pipeline.flushers
            where done.insert("\(settings.endpoint) \(settings.database).\(settings.table)").inserted {
                let endpoint: HTTPEndpoint
                do { endpoint = try HTTPEndpoint(parsing: settings.endpoint) } catch {
                    record(BootstrapStep(kind: .clickhouseTable, name: "\(settings.database).\(settings.table)",
                                         outcome: .failed(.unusable(error.description))))
                    continue
                }
                let statements = ClickHouseFormat.createStatements(settings)
                let probes = ["SELECT count() FROM system.databases WHERE name = '\(settings.database)'",
                              "EXISTS TABLE `\(settings.database)`.`\(settings.table)`"]
                let names = [(BootstrapStep.Kind.clickhouseDatabase, "\(endpoint) \(settings.database)"),
                             (.clickhouseTable, "\(endpoint) \(settings.database).\(settings.table)")]
                for index in 0..<2 {
                    let outcome = ensure(probe: probes[index], create: statements[index], settings: settings,
                                         endpoint: endpoint, session: session)
                    record(BootstrapStep(kind: names[index].0, name: names[index].1, outcome: outcome))
                    if outcome.isFailure { break }
                }
            }
        }
        session.close()
        return steps
    }

    /// `probe` answers 1 when the resource exists; else `create` makes it.
    private static func ensure(probe: String, create: String, settings: ClickHouseFlusherSettings,
                               endpoint: HTTPEndpoint, session: Session) -> BootstrapOutcome {
        switch query(probe, settings: settings, endpoint: endpoint, session: session) {
        case .failure(let error): return .failed(error)
        case .success(let body) where body.starts(with: [UInt8(ascii: "1")]): return .exists(code: "", requestID: nil)
        case .success:
            switch query(create, settings: settings, endpoint: endpoint, session: session) {
            case .failure(let error): return .failed(error)
            case .success: return .created(requestID: nil)
            }
        }
    }

    private static func query(_ sql: String, settings: ClickHouseFlusherSettings, endpoint: HTTPEndpoint,
                              session: Session) -> Result<[UInt8], BootstrapError> {
        let body = Array(sql.utf8)
        var headers: [(name: String, value: String)] = [("Host", endpoint.authority), ("User-Agent", "tailcar"),
                                                        ("Content-Length", String(body.count)),
                                                        ("Content-Type", "text/plain; charset=utf-8")]
        headers += ClickHouseFormat.authHeaders(settings)
        var writer = HTTPRequestWriter(initialCapacity: body.count + 512)
        body.withUnsafeBytes { writer.write(method: "POST", target: "/", headers: headers, body: $0) }
        switch session.exchange(writer.bytes, endpoint: endpoint, serverName: endpoint.host) {
        case .failure(let error): return .failure(.transport(error.description))
        case .success(let response) where (200..<300).contains(response.status): return .success(response.body)
        case .success(let response): return .failure(.unusable("ClickHouse answered " + describe(response)))
        }
    }
}
