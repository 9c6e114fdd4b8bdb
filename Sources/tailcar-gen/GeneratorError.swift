// GeneratorError.swift
//
// Every way tailcar-gen can fail, as one typed error that names the flag, path or system call
// involved. Owns the messages printed on failure; does not own exit codes (main.swift).

import Glibc

enum GeneratorError: Error {
    case unknownFlag(String, suggestion: String?)
    case missingValue(flag: String)
    case badValue(flag: String, value: String, expected: String)
    case conflictingFlags(String)
    case system(call: String, path: String, errno: Int32)

    var message: String {
        switch self {
        case .unknownFlag(let flag, let suggestion):
            return "unknown flag \(flag)" + (suggestion.map { " (did you mean --\($0)?)" } ?? "") + "; see --help"
        case .missingValue(let flag):
            return "flag --\(flag) needs a value (--\(flag)=VALUE)"
        case .badValue(let flag, let value, let expected):
            return "flag --\(flag)=\(value): expected \(expected)"
        case .conflictingFlags(let why):
            return why
        case .system(let call, let path, let code):
            return "\(call)(\(path)) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

/// Runs a system call that returns -1 and sets errno on failure, retrying EINTR.
@inline(__always)
func systemCall<T: BinaryInteger>(
    _ call: String, _ path: String, _ body: () -> T
) throws(GeneratorError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        if errno != EINTR { throw .system(call: call, path: path, errno: errno) }
    }
}
