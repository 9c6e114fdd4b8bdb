// Tests of KubeAPIAccess: a kubeconfig's current context (server, CA data, token, namespace), another
// context by name, what it refuses (client certificates, a missing context), and the in-cluster files.
import Glibc
import Testing
@testable import TailcarCore

@Suite("Kubernetes API access")
struct KubeAPIAccessTests {
    func scratch() -> String {
        var template = Array("/tmp/tailcar-kube-test-XXXXXX".utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Removes the scratch directory's files and the directory.
    func remove(_ directory: String, _ names: [String]) {
        for name in names { unlink(directory + "/" + name) }
        rmdir(directory)
    }

    func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    let kubeconfig = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev-cluster
          cluster:
            server: https://10.0.0.1:6443
            certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
        - name: local
          cluster: {server: "http://127.0.0.1:8001"}
        users:
        - name: dev-user
          user: {token: abc.def}
        - name: cert-user
          user: {client-certificate: /x.crt, client-key: /x.key}
        contexts:
        - name: dev
          context: {cluster: dev-cluster, user: dev-user, namespace: ops}
        - name: local
          context: {cluster: local, user: cert-user}
        """

    @Test("the current context gives the server, the CA written to a private file, the token and the namespace")
    func currentContext() throws {
        let directory = scratch()
        defer { remove(directory, ["config"]) }
        write(kubeconfig, to: directory + "/config")
        let access = try KubeAPIAccess.kubeconfig(path: directory + "/config")
        #expect(access.endpoint == HTTPEndpoint(scheme: .https, host: "10.0.0.1", port: 6443))
        #expect(access.token == .literal("abc.def") && access.namespace == "ops")
        let ca = try #require(access.caFile)
        defer { unlink(ca) }
        #expect(try readText(ca) == "-----BEGIN CERTIFICATE-----\n" && access.caFileIsTemporary)
        #expect(!access.source.contains("abc.def"))
    }

    @Test("a user with a client certificate is refused with the reason")
    func clientCertificate() {
        let directory = scratch()
        defer { remove(directory, ["config"]) }
        write(kubeconfig, to: directory + "/config")
        #expect(throws: KubeAccessError.self) { try KubeAPIAccess.kubeconfig(path: directory + "/config", context: "local") }
        #expect(throws: KubeAccessError.self) { try KubeAPIAccess.kubeconfig(path: directory + "/config", context: "nope") }
        #expect(throws: KubeAccessError.self) { try KubeAPIAccess.kubeconfig(path: directory + "/missing") }
    }

    @Test("in a pod: the service account's token file, CA and namespace with the service host and port")
    func inCluster() throws {
        let directory = scratch()
        defer { remove(directory, ["token", "ca.crt", "namespace"]) }
        write("tok-1\n", to: directory + "/token")
        write("pem", to: directory + "/ca.crt")
        write("tailcar-system", to: directory + "/namespace")
        let access = try KubeAPIAccess.inCluster(host: "10.96.0.1", port: "443", directory: directory)
        #expect(access.endpoint == HTTPEndpoint(scheme: .https, host: "10.96.0.1", port: 443))
        #expect(access.caFile == directory + "/ca.crt" && access.namespace == "tailcar-system")
        #expect(try access.bearer() == "tok-1")
        write("tok-2\n", to: directory + "/token")
        #expect(try access.bearer() == "tok-2")
        #expect(throws: KubeAccessError.self) { try KubeAPIAccess.inCluster(host: nil, port: "443", directory: directory) }
    }
}
