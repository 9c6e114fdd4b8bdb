// LogtailConfigValidator.swift
//
// The Logtail forms of a pipeline: the AliyunLogConfig custom resource
// (`apiVersion: log.alibabacloud.com/v1alpha1`, `kind: AliyunLogConfig`, `spec.project`, `spec.logstore`,
// `spec.logtailConfig`) and the plain Logtail config object (`configName`, `inputType`, `inputDetail`,
// `outputDetail`). Each becomes a pipeline that ships to SLS with the project and logstore it names; the
// endpoint comes from outputDetail or, empty here, from the environment. The `inputDetail` mapping is in
// LogtailInputDetail.swift.

enum LogtailConfigValidator {
    /// Whether `document` is a Logtail form rather than an iLogtail pipeline.
    static func recognises(_ document: ConfigValue) -> Bool {
        document.member("kind") != nil || document.member("apiVersion") != nil || document.member("inputDetail") != nil
    }

    static func pipeline(_ document: ConfigValue, fallbackName: String, _ diagnosis: inout Diagnosis) -> PipelineSettings? {
        if document.member("inputDetail") != nil, document.member("kind") == nil {
            return plainConfig(document, path: "", project: nil, logstore: nil, fallbackName: fallbackName, &diagnosis)
        }
        let errorsBefore = diagnosis.errors.count
        guard var root = FieldReader(document, path: "", subject: "an AliyunLogConfig", into: &diagnosis) else { return nil }
        expect(&root, "apiVersion", "log.alibabacloud.com/v1alpha1", &diagnosis)
        expect(&root, "kind", "AliyunLogConfig", &diagnosis)
        var name = fallbackName
        if let metadata = root.raw("metadata"),
           var reader = FieldReader(metadata, path: "metadata", subject: "metadata", into: &diagnosis) {
            name = reader.string("name", &diagnosis) ?? name
            reader.accept(["namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
                           "creationTimestamp", "managedFields", "finalizers"])
            reader.finish(&diagnosis)
        }
        root.accept(["status"])
        guard let specValue = root.raw("spec"),
              var spec = FieldReader(specValue, path: "spec", subject: "spec", into: &diagnosis) else {
            if root.raw("spec") == nil { diagnosis.errors.append(ConfigError(document.position, field: "spec", "is required")) }
            root.finish(&diagnosis)
            return nil
        }
        root.finish(&diagnosis)
        let project = spec.string("project", default: "", &diagnosis) ?? ""
        let logstore = spec.string("logstore", required: true, &diagnosis)
        let machineGroups = spec.stringList("machineGroups", &diagnosis)
        let shardCount = spec.int("shardCount", default: BootstrapPlan.defaultShardCount, range: 1...256, &diagnosis)
        let lifeCycle = spec.int("lifeCycle", default: BootstrapPlan.defaultLifeCycleDays, range: 1...3650, &diagnosis)
        spec.accept(["logstoreHotTTL", "logstoreMode", "logstoreTelemetryType",
                     "productCode", "productLang", "machineGroupTopic", "enableWebTracking", "appendMeta",
                     "autoSplit", "maxSplitShard", "preserveStorage", "ttl"])
        let config = spec.raw("logtailConfig")
        if config == nil { diagnosis.errors.append(ConfigError(specValue.position, field: "spec.logtailConfig", "is required")) }
        spec.finish(&diagnosis)
        guard let config, let logstore, diagnosis.errors.count == errorsBefore else { return nil }
        var pipeline = plainConfig(config, path: "spec.logtailConfig", project: project, logstore: logstore,
                                   fallbackName: name, &diagnosis)
        pipeline?.machineGroups = machineGroups
        if let configName = pipeline?.name {
            let body = BootstrapPlan.configBody(config, configName: configName, project: project, logstore: logstore)
            pipeline?.bootstrap = BootstrapPlan(project: project, logstore: logstore, shardCount: shardCount,
                                                lifeCycleDays: lifeCycle, machineGroups: machineGroups,
                                                configName: configName, logtailConfig: body)
        }
        return pipeline
    }

    /// The Logtail config object; the resource's spec supplies project and logstore when there is one.
    static func plainConfig(_ value: ConfigValue, path: String, project: String?, logstore: String?,
                            fallbackName: String, _ diagnosis: inout Diagnosis) -> PipelineSettings? {
        let errorsBefore = diagnosis.errors.count
        guard var reader = FieldReader(value, path: path, subject: "logtailConfig", into: &diagnosis) else { return nil }
        let name = reader.string("configName", default: fallbackName, required: project == nil, &diagnosis) ?? fallbackName
        expect(&reader, "inputType", "file", &diagnosis)
        var output = (endpoint: "", project: project ?? "", logstore: logstore ?? "")
        if let outputDetail = reader.raw("outputDetail"),
           var detail = FieldReader(outputDetail, path: join(path, "outputDetail"), subject: "outputDetail", into: &diagnosis) {
            output.endpoint = detail.string("endpoint", default: "", &diagnosis) ?? ""
            if let value = detail.string("projectName", &diagnosis), project == nil { output.project = value }
            if let value = detail.string("logstoreName", required: logstore == nil, &diagnosis), logstore == nil {
                output.logstore = value
            }
            detail.accept(["compressType", "region", "telemetryType"])
            detail.finish(&diagnosis)
        } else if logstore == nil {
            diagnosis.errors.append(ConfigError(value.position, field: join(path, "outputDetail"), "is required"))
        }
        reader.accept(["outputType", "logSample", "createTime", "lastModifyTime"])
        guard let detailValue = reader.raw("inputDetail"),
              var detail = FieldReader(detailValue, path: join(path, "inputDetail"), subject: "inputDetail", into: &diagnosis)
        else {
            if reader.raw("inputDetail") == nil {
                diagnosis.errors.append(ConfigError(value.position, field: join(path, "inputDetail"), "is required"))
            }
            reader.finish(&diagnosis)
            return nil
        }
        reader.finish(&diagnosis)
        let (input, processors, topic) = LogtailInputDetail.read(&detail, &diagnosis)
        guard diagnosis.errors.count == errorsBefore else { return nil }
        let sls = SLSFlusherSettings(endpoint: output.endpoint, project: output.project, logstore: output.logstore)
        return PipelineSettings(name: name, origin: value.position.file, inputs: [input], processors: processors,
                                flushers: [.sls(sls)], topic: topic)
    }

    /// A field that, when present, must hold exactly `expected`.
    private static func expect(_ reader: inout FieldReader, _ key: String, _ expected: String, _ diagnosis: inout Diagnosis) {
        let found = reader.raw(key)
        guard let found, case .scalar(let text, _) = found.node, text != expected else { return }
        diagnosis.errors.append(ConfigError(found.position, field: join(reader.path, key),
                                            "expected \"\(expected)\", found \"\(text)\""))
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }
}
