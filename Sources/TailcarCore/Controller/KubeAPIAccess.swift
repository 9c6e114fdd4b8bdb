// KubeAPIAccess.swift
//
// Where the controller finds the Kubernetes API and how it proves who it is: in a pod, the service account's
// token, CA bundle and namespace under /var/run/secrets/kubernetes.io/serviceaccount with
// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT; outside, a kubeconfig's current context (server,
// certificate-authority or certificate-authority-data, a bearer token or tokenFile, the namespace). Owns
// reading those files and the errors naming what is missing; does not read the environment (the executable
// passes the values in) and never puts a token in an error or a log line.
//
//   kubeconfig: current-context: dev -> contexts[dev] {cluster: c, user: u, namespace: ops}
//               -> clusters[c].server https://10.0.0.1:6443, users[u].token ... -> endpoint, token, namespace ops

import Glibc

public struct KubeAccessError: Error, Equatable, Sendable, CustomStringConvertible {
    public var source: String
    public var problem: String
    public var description: String { "Kubernetes API access from \(source): \(problem)" }
}

public struct KubeAPIAccess: Sendable {
    public enum Token: Sendable, Equatable {
        case none
        case literal(String)
        /// Read again at every request: projected service-account tokens are rotated by the kubelet.
        case file(String)
    }

    public var endpoint: HTTPEndpoint
    /// The TLS server name: the endpoint's host.
    public var serverName: String
    public var token: Token
    /// The CA bundle that signs the API server's certificate (nil: the system bundle).
    public var caFile: String?
    /// True when `caFile` was written from a kubeconfig's certificate-authority-data (removed at exit).
    public var caFileIsTemporary = false
    /// The namespace the controller's own objects (its Lease) live in.
    public var namespace: String
    /// Where this came from, for the start-up line: "in-cluster" or the kubeconfig's path and context.
    public var source: String

    public init(endpoint: HTTPEndpoint, token: Token = .none, caFile: String? = nil, namespace: String = "default",
                source: String = "flags") {
        self.endpoint = endpoint
        self.serverName = endpoint.host
        self.token = token
        self.caFile = caFile
        self.namespace = namespace
        self.source = source
    }

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The pod's own credentials, as client-go's rest.InClusterConfig reads them.
    public static func inCluster(host: String?, port: String?,
                                 directory: String = serviceAccountDirectory) throws(KubeAccessError) -> KubeAPIAccess {
        let source = "the service account (\(directory))"
        guard let host, !host.isEmpty, let port, !port.isEmpty else {
            throw KubeAccessError(source: source, problem: "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are "
                                  + "not set: not in a pod; use --kubeconfig or KUBECONFIG")
        }
        let hostText = host.contains(":") ? "[\(host)]" : host
        let endpoint: HTTPEndpoint
        do { endpoint = try HTTPEndpoint(parsing: "https://\(hostText):\(port)") } catch {
            throw KubeAccessError(source: source, problem: error.description)
        }
        let tokenPath = directory + "/token"
        guard access(tokenPath, R_OK) == 0 else {
            throw KubeAccessError(source: source, problem: "\(tokenPath) cannot be read")
        }
        let namespace = (try? readText(directory + "/namespace")).map { String($0.trimmingWhitespace) }
        let caPath = directory + "/ca.crt"
        var result = KubeAPIAccess(endpoint: endpoint, token: .file(tokenPath),
                                   caFile: access(caPath, R_OK) == 0 ? caPath : nil,
                                   namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
                                   source: "in-cluster")
        result.serverName = host
        return result
    }

    /// A kubeconfig's current context (or `context`). Client certificates and exec plugins are not supported:
    /// the error says so and names the user.
    public static func kubeconfig(path: String, context wanted: String? = nil) throws(KubeAccessError) -> KubeAPIAccess {
        let bytes: [UInt8]
        do { bytes = try readBytes(path) } catch { throw KubeAccessError(source: path, problem: error.problem) }
        let root: ConfigValue
        do {
            guard let first = try YAMLReader.documents(bytes, file: path).first else {
                throw KubeAccessError(source: path, problem: "is empty")
            }
            root = first
        } catch let error as KubeAccessError {
            throw error
        } catch {
            throw KubeAccessError(source: path, problem: "\(error)")
        }
        func fail(_ problem: String) -> KubeAccessError { KubeAccessError(source: path, problem: problem) }
        guard let contextName = wanted ?? root.member("current-context")?.text, !contextName.isEmpty else {
            throw fail("no current-context")
        }
        guard let context = named(root.member("contexts"), contextName)?.member("context") else {
            throw fail("no context named \"\(contextName)\"")
        }
        guard let clusterName = context.member("cluster")?.text,
              let cluster = named(root.member("clusters"), clusterName)?.member("cluster") else {
            throw fail("context \"\(contextName)\" names no cluster that the file has")
        }
        guard let server = cluster.member("server")?.text else { throw fail("cluster \"\(clusterName)\" has no server") }
        let endpoint: HTTPEndpoint
        do { endpoint = try HTTPEndpoint(parsing: server) } catch { throw fail(error.description) }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        var caFile: String?
        if let authority = cluster.member("certificate-authority")?.text {
            caFile = authority.hasPrefix("/") ? authority : directory + "/" + authority
        } else if let data = cluster.member("certificate-authority-data")?.text {
            guard let pem = Base64.decode(data) else { throw fail("certificate-authority-data is not base64") }
            caFile = try writePrivateFile(pem, source: path)
        }
        var token = Token.none
        if let userName = context.member("user")?.text, let user = named(root.member("users"), userName)?.member("user") {
            if let literal = user.member("token")?.text {
                token = .literal(literal)
            } else if let file = user.member("tokenFile")?.text {
                token = .file(file.hasPrefix("/") ? file : directory + "/" + file)
            } else if user.member("client-certificate") != nil || user.member("client-certificate-data") != nil
                        || user.member("exec") != nil || user.member("auth-provider") != nil {
                throw fail("user \"\(userName)\" authenticates with a client certificate or a plugin; "
                           + "tailcar controller needs a bearer token (token or tokenFile)")
            }
        }
        let namespace = context.member("namespace")?.text ?? "default"
        var access = KubeAPIAccess(endpoint: endpoint, token: token, caFile: caFile, namespace: namespace,
                                   source: "\(path) (context \(contextName))")
        access.caFileIsTemporary = cluster.member("certificate-authority") == nil && caFile != nil
        return access
    }

    /// The bearer token now (a file is read again each time).
    func bearer() throws(KubeAccessError) -> String? {
        switch token {
        case .none: return nil
        case .literal(let text): return text
        case .file(let path):
            do { return String(try readText(path).trimmingWhitespace) } catch {
                throw KubeAccessError(source: path, problem: error.problem)
            }
        }
    }

    private static func named(_ list: ConfigValue?, _ name: String) -> ConfigValue? {
        guard case .sequence(let items)? = list?.node else { return nil }
        return items.first { $0.member("name")?.text == name }
    }

    private static func writePrivateFile(_ bytes: [UInt8], source: String) throws(KubeAccessError) -> String {
        var template = Array("/tmp/tailcar-kube-ca-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw KubeAccessError(source: source, problem: "cannot write the CA to /tmp") }
        defer { Glibc.close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw KubeAccessError(source: source, problem: "cannot write the CA to /tmp") }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

struct FileReadError: Error { var problem: String }

func readBytes(_ path: String) throws(FileReadError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileReadError(problem: "cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16 << 10)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count >= 0 else { throw FileReadError(problem: "cannot read \(path): \(String(cString: strerror(errno)))") }
        if count == 0 { return result }
        result += buffer[0..<count]
        guard result.count < 16 << 20 else { throw FileReadError(problem: "\(path) is larger than 16 MiB") }
    }
}

func readText(_ path: String) throws(FileReadError) -> String { String(decoding: try readBytes(path), as: UTF8.self) }

extension ConfigValue {
    /// A scalar's text, nil for a mapping, a list or null.
    var text: String? {
        if isNull { return nil }
        if case .scalar(let text, _) = node { return text }
        return nil
    }
}

extension Base64 {
    /// Standard base64 (RFC 4648, padding optional, whitespace skipped), for kubeconfig's *-data fields.
    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="), 0x20, 0x0A, 0x0D, 0x09: continue
            default: return nil
            }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }
}
