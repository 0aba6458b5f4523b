import Foundation
import HeroldCore
import Mustache

/// How interpolated values are written into the output.
enum TemplateEscaping: Sendable {
    /// As is: plain-text subject and body. (HTML templates keep swift-mustache's HTML escaping.)
    case none
    /// JSON-string-escaped: every value in a `body.json.mustache`, also in `{{{…}}}`.
    case json
}

/// State of one render: the escaping, the time zone for dates, and what went wrong.
/// Created for one synchronous render and dropped after it; never shared between threads.
final class RenderEnvironment {
    let escaping: TemplateEscaping
    let timeZone: TimeZone
    private(set) var problems: [String] = []

    init(escaping: TemplateEscaping, timeZone: TimeZone) {
        self.escaping = escaping
        self.timeZone = timeZone
    }

    func escape(_ text: String) -> String {
        switch escaping {
        case .none: return text
        case .json: return JSONString.escape(text)
        }
    }

    func problem(_ message: String) {
        if !problems.contains(message) { problems.append(message) }
    }

    /// A JSON value as the template sees it: text, number, list, object, boolean or null.
    func wrap(_ value: JSONValue) -> Any {
        switch value {
        case .null: return TemplateNull()
        case .bool(let b): return b
        case .int, .double: return TemplateNumber(value: value, env: self)
        case .string(let s): return TemplateText(value: s, env: self)
        case .array(let items): return TemplateList(items: items, env: self)
        case .object(let members): return TemplateObject(members: members, env: self)
        }
    }

    func text(_ s: String) -> TemplateText { TemplateText(value: s, env: self) }
}

/// Null, or a member that is there with no value: renders empty, counts as false in a section.
struct TemplateNull: MustacheCustomRenderable, MustacheParent {
    var renderText: String { "" }
    var isNull: Bool { true }
    func child(named: String) -> Any? { nil }
}

/// A string from the event or context. Empty text counts as false in a section.
struct TemplateText: MustacheCustomRenderable, MustacheTransformable, MustacheParent, CustomStringConvertible {
    let value: String
    let env: RenderEnvironment

    var renderText: String { env.escape(value) }
    var isNull: Bool { value.isEmpty }
    var description: String { renderText }
    // Without this, swift-mustache would expose the wrapper's stored properties through Mirror.
    func child(named: String) -> Any? { nil }

    func transform(_ name: String) -> Any? {
        switch name {
        case "empty": return value.isEmpty
        case "lowercased": return env.text(value.lowercased())
        case "uppercased": return env.text(value.uppercased())
        case "capitalized": return env.text(value.capitalized)
        case "reversed": return env.text(String(value.reversed()))
        case "pl_data", "pl_data_dzien", "pl_data_i_godzina", "pl_godzina", "pl_dzien_tygodnia":
            return dateHelper(name)
        default:
            if TemplateNumber.transforms.contains(name), let number = TemplateNumber.wholeNumber(value) {
                guard let n = number else {
                    env.problem(TemplateNumber.outOfRange(name, value.trimmingCharacters(in: .whitespaces)))
                    return nil
                }
                return TemplateNumber(value: .int(n), env: env).transform(name)
            }
            env.problem("\(name)(…) cannot be applied to the text \"\(value.prefix(60))\"")
            return nil
        }
    }

    private func dateHelper(_ name: String) -> Any? {
        guard let date = EventDate(value) else {
            env.problem("\(name)(…): \"\(value.prefix(60))\" is not a date (2026-12-15) or an RFC 3339 date-time (2026-12-15T09:00:00+01:00)")
            return nil
        }
        let day = date.localDate(in: env.timeZone)
        switch (name, date) {
        case ("pl_data", _): return env.text(PolishDate.date(day))
        case ("pl_data_dzien", _): return env.text(PolishDate.dateWithWeekday(day))
        case ("pl_dzien_tygodnia", _): return env.text(PolishDate.weekday(day))
        case ("pl_data_i_godzina", .date): return env.text(PolishDate.dateWithWeekday(day))
        case ("pl_data_i_godzina", .dateTime(let t)): return env.text(PolishDate.dateWithWeekdayAndTime(t, in: env.timeZone))
        case ("pl_godzina", .dateTime(let t)):
            let p = LocalTime.parts(of: t, in: env.timeZone)
            return env.text(PolishDate.time(hour: p.hour, minute: p.minute))
        default:
            env.problem("\(name)(…): \"\(value)\" is a date without a time")
            return nil
        }
    }
}

/// A number from the event or context.
struct TemplateNumber: MustacheCustomRenderable, MustacheTransformable, MustacheParent, CustomStringConvertible {
    let value: JSONValue
    let env: RenderEnvironment

    var renderText: String { env.escape(value.scalarText ?? "") }
    var isNull: Bool { false }
    var description: String { renderText }
    func child(named: String) -> Any? { nil }

    /// Whole numbers the helpers take: far beyond any count or number of days, and far from
    /// where `+ 1`, `- n` or a multiplication could overflow. Event data outside it holds the
    /// delivery with the reason instead of trapping.
    static let helperRange: ClosedRange<Int64> = -999_999_999_999_999...999_999_999_999_999
    /// What a number answers to; a text holding a whole number (`"n": "7"`) answers too.
    static let transforms = TemplateHelpers.numberHelpers.union(["plusone", "minusone", "even", "odd", "equalzero"])

    /// A whole number written as text (`"n": "7"`): nil when the text is not one, `.some(nil)`
    /// when it is one too long for 64 bits.
    static func wholeNumber(_ text: String) -> Int64?? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.first == "-" || trimmed.first == "+" ? trimmed.dropFirst() : Substring(trimmed)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return .some(Int64(trimmed))
    }

    static func outOfRange(_ helper: String, _ written: String) -> String {
        "\(helper)(…): the number \(written.prefix(40)) is out of range (whole numbers from \(helperRange.lowerBound) to \(helperRange.upperBound))"
    }

    private var integer: Int? {
        switch value {
        case .int(let i): return Self.helperRange.contains(i) ? Int(i) : nil
        case .double(let d): return d.rounded() == d && abs(d) <= Double(Self.helperRange.upperBound) ? Int(d) : nil
        default: return nil
        }
    }

    private var isWhole: Bool {
        switch value {
        case .int: return true
        case .double(let d): return d.isFinite && d.rounded() == d
        default: return false
        }
    }

    func transform(_ name: String) -> Any? {
        guard let n = integer else {
            if isWhole {
                env.problem(Self.outOfRange(name, value.scalarText ?? "?"))
            } else {
                env.problem("\(name)(…) needs a whole number, found \(value.scalarText ?? "?")")
            }
            return nil
        }
        switch name {
        case "pl_za_ile": return env.text(PolishDaysLeft.text(n))
        case "plusone": return TemplateNumber(value: .int(Int64(n) + 1), env: env)
        case "minusone": return TemplateNumber(value: .int(Int64(n) - 1), env: env)
        case "even": return n % 2 == 0
        case "odd": return n % 2 != 0
        case "equalzero": return n == 0
        default:
            if name.hasPrefix("pl_"), let noun = PolishNoun(rawValue: String(name.dropFirst(3))) {
                return env.text(noun.counted(n))
            }
            env.problem("\(name)(…) cannot be applied to the number \(n)")
            return nil
        }
    }
}

/// A list from the event: iterates in sections, `{{list.0}}` picks an item.
struct TemplateList: MustacheSequence, MustacheCustomRenderable, MustacheTransformable, MustacheParent {
    let items: [JSONValue]
    let env: RenderEnvironment

    func makeIterator() -> IndexingIterator<[Any]> { items.map { env.wrap($0) }.makeIterator() }

    var renderText: String { env.escape(String(decoding: JSONValue.array(items).jsonData(), as: UTF8.self)) }
    var isNull: Bool { items.isEmpty }
    func child(named: String) -> Any? {
        guard let i = Int(named), items.indices.contains(i) else { return nil }
        return env.wrap(items[i])
    }

    func transform(_ name: String) -> Any? {
        switch name {
        case "count": return TemplateNumber(value: .int(Int64(items.count)), env: env)
        case "empty": return items.isEmpty
        case "first": return items.first.map { env.wrap($0) }
        case "last": return items.last.map { env.wrap($0) }
        case "reversed": return TemplateList(items: items.reversed(), env: env)
        case "pl_lista":
            let names = items.compactMap { item -> String? in
                if case .object(let members) = item { return members["name"]?.scalarText }
                return item.scalarText
            }
            return env.text(PolishList.join(names))
        default:
            env.problem("\(name)(…) cannot be applied to a list")
            return nil
        }
    }
}

/// An object from the event, or the context root.
struct TemplateObject: MustacheCustomRenderable, MustacheTransformable, MustacheParent {
    let members: [String: JSONValue]
    let env: RenderEnvironment

    var renderText: String { env.escape(String(decoding: JSONValue.object(members).jsonData(), as: UTF8.self)) }
    var isNull: Bool { false }
    func child(named: String) -> Any? { members[named].map { env.wrap($0) } }

    func transform(_ name: String) -> Any? {
        switch name {
        case "count": return TemplateNumber(value: .int(Int64(members.count)), env: env)
        case "empty": return members.isEmpty
        default:
            env.problem("\(name)(…) cannot be applied to an object")
            return nil
        }
    }
}
