// NginxLogFormat.swift
//
// Turns an nginx `log_format` into the regex and key list that Logtail's Nginx mode (the SLS console)
// feeds to its regex parser. A pure function: matching is the regex parser's job, not this file's.
//
// Rules, after the console's output for the `main` format:
//   $time_local            -> (\d+/\S+/\d+:\d+:\d+:\d+)\s+\S+     key time_local (the zone is not captured)
//   $request               -> (\S+)\s+(\S+)\s+\S+                 keys request_method, request_uri
//   $var inside "..."      -> ([^"]*)                              key var
//   $var elsewhere         -> (\S*)                                key var
//   a run of whitespace    -> \s*
//   other literal text     -> itself, regex metacharacters escaped
//   the end                -> .*  (trailing fields added later to the format do not break matching)
// `${var}` is accepted as well as `$var`; a `$` not followed by a name is literal. A whole directive
// (`log_format main '...' '...';`) is accepted too: its quoted parts are joined.
//
//   $remote_addr - $remote_user [$time_local] "$request" $status
//   -> (\S*)\s*-\s*(\S*)\s*\[(\d+/\S+/\d+:\d+:\d+:\d+)\s+\S+\]\s*"(\S+)\s+(\S+)\s+\S+"\s*(\S*).*

public enum NginxLogFormat {
    /// nginx's predefined `combined` format.
    public static let combined =
        #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "#
        + #""$http_user_agent""#
    /// The `main` format of nginx's sample configuration (the console's default).
    public static let main = combined + #" "$http_x_forwarded_for""#

    /// `main` and `combined` name the predefined formats; anything else is a format string or a whole
    /// `log_format` directive.
    public static func regex(forNamedOrLiteral format: String) -> (pattern: String, keys: [String]) {
        switch format {
        case "main": return regex(for: main)
        case "combined": return regex(for: combined)
        default: return regex(for: format)
        }
    }

    public static func regex(for format: String) -> (pattern: String, keys: [String]) {
        let text = Array(directiveBody(format).utf8)
        var pattern = ""
        var keys: [String] = []
        var insideQuotes = false
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == 0x24, let (name, next) = variable(text, after: index) {
                append(variable: name, insideQuotes: insideQuotes, to: &pattern, keys: &keys)
                index = next
            } else if isSpace(byte) {
                while index < text.count, isSpace(text[index]) { index += 1 }
                pattern += #"\s*"#
            } else {
                if byte == 0x22 { insideQuotes.toggle() }
                if #"\.^$|?*+()[]{}"#.utf8.contains(byte) { pattern += "\\" }
                pattern.unicodeScalars.append(UnicodeScalar(byte))
                index += 1
            }
        }
        return (pattern + ".*", keys)
    }

    private static func append(variable name: String, insideQuotes: Bool, to pattern: inout String,
                               keys: inout [String]) {
        switch name {
        case "time_local":
            pattern += #"(\d+/\S+/\d+:\d+:\d+:\d+)\s+\S+"#
            keys.append(name)
        case "request":
            pattern += #"(\S+)\s+(\S+)\s+\S+"#
            keys += ["request_method", "request_uri"]
        default:
            pattern += insideQuotes ? #"([^"]*)"# : #"(\S*)"#
            keys.append(name)
        }
    }

    /// The name of the variable whose `$` is at `dollar`, and the index after it.
    private static func variable(_ text: [UInt8], after dollar: Int) -> (String, Int)? {
        var start = dollar + 1
        let braced = start < text.count && text[start] == 0x7B
        if braced { start += 1 }
        var end = start
        while end < text.count, isNameByte(text[end]) { end += 1 }
        guard end > start else { return nil }
        let name = String(decoding: text[start..<end], as: UTF8.self)
        if braced {
            guard end < text.count, text[end] == 0x7D else { return nil }
            return (name, end + 1)
        }
        return (name, end)
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
            || byte == 0x5F
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// For `log_format name [escape=...] 'part' "part" ...;` the joined parts; otherwise `format` itself.
    static func directiveBody(_ format: String) -> String {
        let text = Array(format.utf8)
        let keyword = Array("log_format".utf8)
        var index = 0
        while index < text.count, isSpace(text[index]) { index += 1 }
        guard text.count >= index + keyword.count, Array(text[index..<index + keyword.count]) == keyword else {
            return format
        }
        var body: [UInt8] = []
        index += keyword.count
        while index < text.count {
            let byte = text[index]
            if byte == 0x27 || byte == 0x22 {
                var end = index + 1
                while end < text.count, text[end] != byte {
                    if text[end] == 0x5C, end + 1 < text.count { end += 1 }
                    body.append(text[end])
                    end += 1
                }
                index = end + 1
            } else {
                index += 1
            }
        }
        return String(decoding: body, as: UTF8.self)
    }
}
