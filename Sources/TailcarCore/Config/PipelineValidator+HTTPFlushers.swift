// PipelineValidator+HTTPFlushers.swift
//
// The fields of flusher_otlp: Endpoint (`scheme://host[:port]`, checked here so check-config names a bad
// one), Path, Compression (gzip or none), Headers (a mapping; names and values checked for what HTTP
// allows), BodyKey; and of flusher_clickhouse: Endpoint, Database, Table, Columns (names ClickHouse takes
// unquoted), User, Password, Auth (headers or basic), Compression (lz4, zstd, gzip or none), CreateTable.

extension PipelineValidator {
    static func otlp(_ reader: inout FieldReader, path: String, _ diagnosis: inout Diagnosis) -> FlusherSettings? {
        let errorsBefore = diagnosis.errors.count
        let endpoint = httpEndpoint(&reader, path: path, &diagnosis)
        var settings = OTLPFlusherSettings(endpoint: endpoint ?? "")
        settings.path = reader.string("Path", default: "/v1/logs", &diagnosis) ?? "/v1/logs"
        if !settings.path.hasPrefix("/") || settings.path.contains(where: { $0 == " " || $0.isNewline }) {
            diagnosis.errors.append(ConfigError(reader.value.position, field: path + ".Path",
                                                "expected an absolute URL path such as /v1/logs, found \"\(settings.path)\""))
        }
        let compression = reader.string("Compression", default: "gzip", &diagnosis) ?? "gzip"
        if let parsed = OTLPFlusherSettings.Compression(rawValue: compression) {
            settings.compression = parsed
        } else {
            diagnosis.errors.append(ConfigError(reader.value.position, field: path + ".Compression",
                                                "expected gzip or none, found \"\(compression)\""))
        }
        settings.headers = headers(&reader, path: path, &diagnosis)
        settings.bodyKey = reader.string("BodyKey", default: "content", &diagnosis) ?? "content"
        guard diagnosis.errors.count == errorsBefore, endpoint != nil else { return nil }
        return .otlp(settings)
    }

    static func clickhouse(_ reader: inout FieldReader, path: String, _ diagnosis: inout Diagnosis) -> FlusherSettings? {
        let errorsBefore = diagnosis.errors.count
        let endpoint = httpEndpoint(&reader, path: path, &diagnosis)
        let database = identifier(&reader, "Database", path: path, default: nil, &diagnosis)
        let table = identifier(&reader, "Table", path: path, default: nil, &diagnosis)
        var settings = ClickHouseFlusherSettings(endpoint: endpoint ?? "", database: database ?? "", table: table ?? "")
        if reader.has("Columns") {
            settings.columns = reader.stringList("Columns", &diagnosis)
        }
        let taken = ["time", "time_ns", "path", "topic", "tags", "fields"]
        for (index, column) in settings.columns.enumerated() {
            let field = "\(path).Columns[\(index)]"
            if !isIdentifier(column) {
                diagnosis.errors.append(ConfigError(reader.value.position, field: field,
                                                    "\"\(column)\" is not a column name (letters, digits, _; not first a digit)"))
            } else if taken.contains(column) {
                diagnosis.errors.append(ConfigError(reader.value.position, field: field,
                                                    "\"\(column)\" is a column of the default schema already"))
            }
        }
        settings.user = reader.string("User", default: "default", &diagnosis) ?? "default"
        settings.password = reader.string("Password", default: "", &diagnosis) ?? ""
        for (key, value) in [("User", settings.user), ("Password", settings.password)]
        where value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            diagnosis.errors.append(ConfigError(reader.value.position, field: path + "." + key,
                                                "holds a control character (value not shown)"))
        }
        let auth = reader.string("Auth", default: "headers", &diagnosis) ?? "headers"
        if let parsed = ClickHouseFlusherSettings.Auth(rawValue: auth) {
            settings.auth = parsed
        } else {
            diagnosis.errors.append(ConfigError(reader.value.position, field: path + ".Auth",
                                                "expected headers or basic, found \"\(auth)\""))
        }
        let compression = reader.string("Compression", default: "lz4", &diagnosis) ?? "lz4"
        if let parsed = ClickHouseFlusherSettings.Compression(rawValue: compression) {
            settings.compression = parsed
        } else {
            diagnosis.errors.append(ConfigError(reader.value.position, field: path + ".Compression",
                                                "expected lz4, zstd, gzip or none, found \"\(compression)\""))
        }
        settings.createTable = reader.bool("CreateTable", default: true, &diagnosis)
        guard diagnosis.errors.count == errorsBefore, endpoint != nil, database != nil, table != nil else { return nil }
        return .clickhouse(settings)
    }

    private static func identifier(_ reader: inout FieldReader, _ key: String, path: String, default fallback: String?,
                                   _ diagnosis: inout Diagnosis) -> String? {
        guard let name = reader.string(key, default: fallback, required: fallback == nil, &diagnosis) else { return nil }
        guard isIdentifier(name) else {
            diagnosis.errors.append(ConfigError(reader.value.member(key)?.position ?? reader.value.position,
                                                field: path + "." + key,
                                                "\"\(name)\" is not a ClickHouse name Tailcar takes (letters, digits, _; not first a digit)"))
            return nil
        }
        return name
    }

    private static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F }
    }

    /// `Endpoint`, required, as HTTPEndpoint parses it.
    static func httpEndpoint(_ reader: inout FieldReader, path: String, _ diagnosis: inout Diagnosis) -> String? {
        guard let text = reader.string("Endpoint", required: true, &diagnosis) else { return nil }
        do {
            _ = try HTTPEndpoint(parsing: text)
        } catch {
            diagnosis.errors.append(ConfigError(reader.value.member("Endpoint")?.position ?? reader.value.position,
                                                field: path + ".Endpoint", "\(error)"))
            return nil
        }
        return text
    }

    /// `Headers`: header name to value. A value is never echoed in a message (it may be a token).
    static func headers(_ reader: inout FieldReader, path: String, _ diagnosis: inout Diagnosis) -> [HTTPHeaderSetting] {
        let reserved = ["host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection"]
        var result: [HTTPHeaderSetting] = []
        for (name, value) in reader.stringMap("Headers", &diagnosis) {
            let field = "\(path).Headers.\(name)"
            let tokenBytes = name.utf8.allSatisfy { byte in
                (0x21..<0x7F).contains(byte) && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
            }
            if name.isEmpty || !tokenBytes {
                diagnosis.errors.append(ConfigError(reader.value.position, field: field, "is not a valid HTTP header name"))
            } else if reserved.contains(name.lowercased()) {
                diagnosis.errors.append(ConfigError(reader.value.position, field: field, "is set by Tailcar itself"))
            } else if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
                diagnosis.errors.append(ConfigError(reader.value.position, field: field,
                                                    "the value holds a line break or NUL (value not shown)"))
            } else {
                result.append(HTTPHeaderSetting(name: name, value: value))
            }
        }
        return result
    }
}
