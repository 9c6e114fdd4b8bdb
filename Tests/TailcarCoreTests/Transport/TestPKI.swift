// TestPKI.swift
//
// Throwaway certificates for the TLS tests, made by the `openssl` CLI in a temporary directory that is
// removed on deinit: a trusted CA, server certificates it signs on demand (one per name, DNS or IP
// subjectAltName), and an unrelated "rogue" CA. EC P-256 keys, so generation takes milliseconds.
import Glibc

struct PKIError: Error, CustomStringConvertible {
    var description: String
}

final class TestPKI {
    let directory: String
    var trustedCA: String { directory + "/ca.crt" }

    init() throws {
        var template = Array("/tmp/tailcar-tls-XXXXXX".utf8CString)
        directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        try makeCA(named: "ca", commonName: "Tailcar Test CA")
    }

    deinit {
        guard let stream = opendir(directory) else { return }
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(cString: bytes.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { unlink(directory + "/" + name) }
        }
        closedir(stream)
        rmdir(directory)
    }

    /// A second, self-signed CA that signed nothing the tests serve.
    func rogueCA() throws -> String {
        try makeCA(named: "rogue-ca", commonName: "Tailcar Rogue CA")
        return directory + "/rogue-ca.crt"
    }

    /// A server certificate and key for `name`, signed by the trusted CA.
    func serverCertificate(for name: String) throws -> (certificate: String, key: String) {
        let isIP = name.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" }
        let section = "leaf_\(name.filter { $0.isLetter || $0.isNumber })"
        let config = """
            [req]
            distinguished_name = dn
            prompt = no
            [dn]
            CN = unused
            [\(section)]
            basicConstraints = critical,CA:FALSE
            keyUsage = critical,digitalSignature
            extendedKeyUsage = serverAuth
            subjectAltName = \(isIP ? "IP" : "DNS"):\(name)
            authorityKeyIdentifier = keyid

            """
        let base = directory + "/" + name
        try write(config, to: base + ".cnf")
        try openssl(["req", "-x509", "-config", base + ".cnf", "-extensions", section,
                     "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", base + ".key", "-out", base + ".crt", "-days", "2", "-subj", "/CN=\(name)",
                     "-CA", trustedCA, "-CAkey", directory + "/ca.key"])
        return (base + ".crt", base + ".key")
    }

    /// Writes `text` to `path` (for hostile CA files and configs).
    func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw PKIError(description: "cannot create \(path)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw PKIError(description: "short write to \(path)") }
    }

    private func makeCA(named name: String, commonName: String) throws {
        let config = """
            [req]
            distinguished_name = dn
            prompt = no
            [dn]
            CN = unused
            [ca_ext]
            basicConstraints = critical,CA:TRUE
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash

            """
        let base = directory + "/" + name
        try write(config, to: base + ".cnf")
        try openssl(["req", "-x509", "-config", base + ".cnf", "-extensions", "ca_ext",
                     "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", base + ".key", "-out", base + ".crt", "-days", "2", "-subj", "/CN=\(commonName)"])
    }

    /// Runs `openssl arguments` with stdout and stderr in the directory's openssl.log; throws the log on failure.
    private func openssl(_ arguments: [String]) throws {
        let log = directory + "/openssl.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = (["openssl"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawnp(&child, "openssl", &actions, nil, argv, environ)
        guard spawned == 0 else { throw PKIError(description: "posix_spawnp openssl: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(child, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            throw PKIError(description: "openssl \(arguments.joined(separator: " ")) failed (status \(status)): \(readLog(log))")
        }
    }

    private func readLog(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "(no log)" }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return String(decoding: bytes.prefix(max(count, 0)), as: UTF8.self)
    }
}
