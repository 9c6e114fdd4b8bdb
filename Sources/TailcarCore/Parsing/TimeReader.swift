// TimeReader.swift
//
// Reads one compiled time step at a time from the input bytes into `TimeFields`. Owns the lexical rules
// of each directive (widths, names, signs); does not own the directive table (TimeFormat.swift).

struct TimeReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    private static let months: [[UInt8]] = ["january", "february", "march", "april", "may", "june", "july",
                                            "august", "september", "october", "november", "december"]
        .map { Array($0.utf8) }
    private static let weekdays: [[UInt8]] = ["sunday", "monday", "tuesday", "wednesday", "thursday",
                                              "friday", "saturday"].map { Array($0.utf8) }

    mutating func read(_ step: TimeStep, into fields: inout TimeFields) -> Bool {
        switch step {
        case .literal(let byte):
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
        case .whitespace:
            while position < bytes.count, TimeFormat.isSpace(bytes[position]) { position += 1 }
        case .year: return number(maxDigits: 4) { fields.year = $0 }
        case .twoDigitYear: return number(maxDigits: 2) { fields.year = $0 < 69 ? 2000 + $0 : 1900 + $0 }
        case .month: return number(maxDigits: 2) { fields.month = $0 }
        case .day:
            if position < bytes.count, bytes[position] == 0x20 { position += 1 }
            return number(maxDigits: 2) { fields.day = $0 }
        case .dayOfYear: return number(maxDigits: 3) { fields.dayOfYear = $0 }
        case .hour24: return number(maxDigits: 2) { fields.hour = $0 }
        case .hour12: return number(maxDigits: 2) { fields.hour = $0; fields.twelveHour = true }
        case .minute: return number(maxDigits: 2) { fields.minute = $0 }
        case .second: return number(maxDigits: 2) { fields.second = $0 }
        case .fraction: return fraction(&fields)
        case .meridiem: return meridiem(&fields)
        case .monthName:
            guard let index = name(Self.months) else { return false }
            fields.month = index + 1
        case .weekdayName: return name(Self.weekdays) != nil
        case .zoneOffset: return zoneOffset(&fields)
        case .zoneName: return zoneName(&fields)
        case .epochSeconds: return epoch(&fields)
        }
        return true
    }

    private mutating func number(maxDigits: Int, _ store: (Int) -> Void) -> Bool {
        var value = 0
        var digits = 0
        while digits < maxDigits, position < bytes.count, JSONScanner.isDigit(bytes[position]) {
            value = value * 10 + Int(bytes[position] - 0x30)
            digits += 1
            position += 1
        }
        guard digits > 0 else { return false }
        store(value)
        return true
    }

    /// 1 to 9 significant digits as nanoseconds; further digits are consumed and ignored.
    private mutating func fraction(_ fields: inout TimeFields) -> Bool {
        var value: UInt32 = 0
        var digits = 0
        while position < bytes.count, JSONScanner.isDigit(bytes[position]) {
            if digits < 9 {
                value = value * 10 + UInt32(bytes[position] - 0x30)
                digits += 1
            }
            position += 1
        }
        guard digits > 0 else { return false }
        for _ in digits..<9 { value *= 10 }
        fields.nanoseconds = value
        return true
    }

    private mutating func meridiem(_ fields: inout TimeFields) -> Bool {
        guard position + 2 <= bytes.count, bytes[position + 1] | 0x20 == 0x6D else { return false }
        switch bytes[position] | 0x20 {
        case 0x61: fields.afternoon = false
        case 0x70: fields.afternoon = true
        default: return false
        }
        position += 2
        return true
    }

    /// Matches a full name or its first three letters, ignoring case; returns its index.
    private mutating func name(_ names: [[UInt8]]) -> Int? {
        for (index, full) in names.enumerated() {
            var matched = 0
            while matched < full.count, position + matched < bytes.count,
                  bytes[position + matched] | 0x20 == full[matched] { matched += 1 }
            if matched == full.count {
                position += matched
                return index
            }
            if matched >= 3 {
                position += 3
                return index
            }
        }
        return nil
    }

    private mutating func zoneOffset(_ fields: inout TimeFields) -> Bool {
        guard position < bytes.count else { return false }
        if bytes[position] == 0x5A {
            position += 1
            fields.offset = 0
            return true
        }
        guard let offset = UTCOffset.scanSigned(bytes, &position, lenient: false) else { return false }
        fields.offset = offset
        return true
    }

    private mutating func zoneName(_ fields: inout TimeFields) -> Bool {
        let start = position
        while position < bytes.count, (bytes[position] | 0x20) >= 0x61 && (bytes[position] | 0x20) <= 0x7A {
            position += 1
        }
        guard position > start else { return zoneOffset(&fields) }
        let name = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
        let isUniversal = name.elementsEqual("UTC".utf8) || name.elementsEqual("GMT".utf8)
            || name.elementsEqual("UT".utf8) || name.elementsEqual("Z".utf8)
        guard isUniversal else { return true }
        fields.offset = UTCOffset.scanSigned(bytes, &position, lenient: true) ?? 0
        return true
    }

    private mutating func epoch(_ fields: inout TimeFields) -> Bool {
        var negative = false
        if position < bytes.count, bytes[position] == 0x2D {
            negative = true
            position += 1
        }
        var value: Int64 = 0
        var digits = 0
        while position < bytes.count, JSONScanner.isDigit(bytes[position]), digits < 18 {
            value = value * 10 + Int64(bytes[position] - 0x30)
            digits += 1
            position += 1
        }
        guard digits > 0 else { return false }
        fields.epoch = negative ? -value : value
        return true
    }
}
