// SystemCall.swift
//
// The one way Tailcar calls the kernel: every syscall goes through `systemCall`, which retries EINTR and
// turns a failure into a `SystemError` naming the operation, the path and errno. libuv results go through
// `uvCheck` (Runtime/) the same way. Owns no policy about which errors are fatal.

import CTailcarShim
import Glibc

/// A failed system call: what was attempted, on what, and errno.
public struct SystemError: Error, Equatable, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String?
    public var code: Int32

    public init(operation: String, path: String? = nil, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        let reason = String(cString: strerror(code))
        if let path { return "\(operation) \(path): \(reason) (errno \(code))" }
        return "\(operation): \(reason) (errno \(code))"
    }

    public var isNotFound: Bool { code == ENOENT || code == ENOTDIR }
}

/// Runs `body` until it does not fail with EINTR; a result of -1 becomes a `SystemError`.
@inline(__always)
public func systemCall<T: FixedWidthInteger>(_ operation: String, path: String? = nil,
                                             _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = ctailcar_errno()
        if code == EINTR { continue }
        throw SystemError(operation: operation, path: path, code: code)
    }
}

/// The current errno, for calls whose failure is not signalled by -1.
public var currentErrno: Int32 { ctailcar_errno() }

/// The process arguments, read from what the kernel passed to the process rather than /proc (which an
/// empty chroot lacks).
public func processArguments() -> [String] {
    (0..<ctailcar_argc()).compactMap { index in ctailcar_argv(index).map { String(cString: $0) } }
}
