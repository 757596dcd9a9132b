// JSON Schema validation over `JSONValue`, for tool `inputSchema`/`outputSchema` and plugin
// `configSchema`.
//
// A schema is compiled once into a flat table of nodes (subschemas), each a list of checks with
// every keyword value already decoded, every `$ref` resolved to a node index and every regex
// compiled. Validating walks that table, never the schema JSON. `validate` first runs an
// allocation-free yes/no pass; only when that fails does it run again collecting violations with
// instance paths and messages, so the common (valid) case stays cheap.
//
// Semantics are draft 2020-12 (what MCP uses), with the older forms accepted as well:
// array-form `items` + `additionalItems` (draft-04..2019-09), `definitions`, `dependencies`,
// boolean `exclusiveMinimum`/`exclusiveMaximum` (draft-04), `$id: "#name"` anchors, and `id`
// for draft-03/04. Keywords beside `$ref` apply (2020-12), except when the root's `$schema`
// declares draft-07 or older: then `$ref` replaces its schema, as those drafts say.
//
// Limits, on purpose:
// - Ignored like any unknown keyword: `unevaluatedProperties`, `unevaluatedItems`,
//   `contentMediaType`/`contentEncoding`/`contentSchema`, `$vocabulary`.
// - `$ref` resolves within the document only: `#`, `#/json/pointer` (~0 ~1 and %-escapes
//   decoded), `#anchor`, and URIs naming the root or an embedded resource (`$id`, resolved
//   against the enclosing base URI; fragments then apply within that resource). Nothing is
//   fetched: any other URI fails compilation.
// - `$dynamicRef`/`$recursiveRef` resolve statically, like `$ref` (no dynamic scope).
// - Regexes are ICU (NSRegularExpression), with `\d`/`\D` narrowed to ASCII as in ECMAScript and
//   `[` inside a class taken literally; other ECMAScript/ICU differences are rare in practice.
//
// Foundation is used only for `pattern`/`patternProperties` and, at compile time, for resolving
// `$ref`/`$id` URIs (plus libc `memcmp` for property names).

import Foundation

// MARK: - Public API

/// One way a value fails a schema.
public struct JSONSchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// JSON Pointer to the offending part of the value: `""` for the value itself, `/a`,
    /// `/items/2/name`.
    public var instancePath: String
    /// JSON Pointer to the failing keyword inside the schema, e.g. `/properties/a/type`. For
    /// checks reached through `$ref` this is the location of the referenced subschema.
    public var schemaPath: String
    /// The keyword that failed: `type`, `required`, `maximum`, …
    public var keyword: String
    /// The explanation without the path, e.g. `expected number, got string`.
    public var detail: String

    public init(instancePath: String, schemaPath: String, keyword: String, detail: String) {
        self.instancePath = instancePath
        self.schemaPath = schemaPath
        self.keyword = keyword
        self.detail = detail
    }

    /// `"/a: expected number, got string"`; at the root just the detail, e.g.
    /// `"missing required property 'message'"`.
    public var message: String { instancePath.isEmpty ? detail : "\(instancePath): \(detail)" }
    public var description: String { message }
}

extension Array where Element == JSONSchemaViolation {
    /// The first violation's message, for a one-line error text; `nil` when there is none.
    public var firstMessage: String? { first?.message }
}

/// Why a schema could not be compiled. `schemaPath` points at the offending keyword.
public struct JSONSchemaCompileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var schemaPath: String
    public var message: String
    public init(schemaPath: String, message: String) {
        self.schemaPath = schemaPath
        self.message = message
    }
    public var description: String {
        schemaPath.isEmpty ? "invalid schema: \(message)" : "invalid schema at \(schemaPath): \(message)"
    }
}

/// Thrown by `CompiledSchema.check(_:)`.
public struct JSONSchemaValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// At least one violation, at most the limit given to `check`.
    public var violations: [JSONSchemaViolation]
    public init(violations: [JSONSchemaViolation]) { self.violations = violations }
    public var firstMessage: String { violations.firstMessage ?? "value does not match the schema" }
    /// All messages joined with "; ".
    public var description: String {
        violations.isEmpty ? firstMessage : violations.map(\.message).joined(separator: "; ")
    }
}

/// A schema compiled for repeated validation. Immutable and `Sendable`: compile once (e.g. when a
/// plugin registers its tools) and share it across threads.
public struct CompiledSchema: Sendable {
    /// How many violations `validate` collects by default before it stops.
    public static let defaultMaxViolations = 10
    /// How deeply subschemas may be applied inside one another (`$ref` recursion, nesting of the
    /// value) before validation gives up with a violation instead of risking the stack.
    public static let maxEvaluationDepth = 256
    /// How many subschema applications one validation may take before giving up with a
    /// violation: this many, or 16 per node of the value when that is more. Bounds the time a
    /// hostile value can cost against schemas whose combinators multiply work (e.g. two anyOf
    /// branches that both recurse into the same member), while big values still get linear room.
    public static let maxEvaluations = 250_000
    /// How deeply a schema document may nest (as JSON; the parser's default limit too).
    public static let maxSchemaDepth = 128

    static let evaluationsPerValueNode = 16
    static let tooMuchWork = "validation takes too much work; giving up"

    /// The schema as given.
    public let schema: JSONValue
    let program: SchemaProgram
    let baseBudget: Int

    /// Compiles `schema` (an object or a boolean). Throws `JSONSchemaCompileError` naming the
    /// problem when a keyword has a malformed value, a `pattern` is not a valid regular
    /// expression, a `$ref` cannot be resolved locally, or `$ref`s form a cycle that never moves
    /// into the value (which could only loop).
    ///
    /// `checkFormats`: whether `format` is asserted. When true these formats are checked
    /// (loosely): `date-time` and `date` (RFC 3339, with day-of-month/leap-year check), `email`
    /// (`local@domain`, no whitespace), `uri` (a scheme followed by `:`, no whitespace), `uuid`
    /// (8-4-4-4-12 hex) and `ipv4` (dotted quad). Every other format is an annotation only.
    public init(_ schema: JSONValue, checkFormats: Bool = true) throws {
        try self.init(schema, checkFormats: checkFormats, evaluationBudget: Self.maxEvaluations)
    }

    /// `evaluationBudget` replaces `maxEvaluations` (for tests).
    init(_ schema: JSONValue, checkFormats: Bool, evaluationBudget: Int) throws {
        var compiler = SchemaCompiler(root: schema, checkFormats: checkFormats)
        try compiler.compileAll()
        self.schema = schema
        self.program = SchemaProgram(nodes: compiler.nodes)
        self.baseBudget = evaluationBudget
    }

    /// True when `value` satisfies the schema. Allocation-free for schemas without
    /// `pattern`/`patternProperties`/`format`/`uniqueItems`.
    public func isValid(_ value: JSONValue) -> Bool { quickCheck(value).valid }

    /// The ways `value` fails the schema, in evaluation order (per subschema: `type`, `const`,
    /// `enum`, `required`, properties, …; members in the value's order), at most `maxViolations`
    /// of them; empty when it is valid.
    public func validate(_ value: JSONValue, maxViolations: Int = CompiledSchema.defaultMaxViolations)
        -> [JSONSchemaViolation]
    {
        // A yes/no pass first: no paths or messages are built for valid values.
        let quick = quickCheck(value)
        if quick.valid { return [] }
        var sink = ViolationSink(collecting: true, limit: Swift.max(1, maxViolations), budget: quick.budget)
        _ = program.evaluate(0, value, depth: 0, &sink)
        if sink.budget <= 0, !sink.violations.contains(where: { $0.detail == Self.tooMuchWork }) {
            // Ran out under a `not` or an anyOf branch: say so rather than report a wrong reason.
            sink.violations = [JSONSchemaViolation(instancePath: "", schemaPath: "", keyword: "$ref", detail: Self.tooMuchWork)]
        }
        if sink.violations.isEmpty {
            // Cannot happen (every failing check reports); keep the answer consistent anyway.
            sink.violations.append(
                JSONSchemaViolation(instancePath: "", schemaPath: "", keyword: "", detail: "value does not match the schema"))
        }
        return sink.violations
    }

    /// Throws `JSONSchemaValidationError` when `value` fails the schema.
    public func check(_ value: JSONValue, maxViolations: Int = CompiledSchema.defaultMaxViolations) throws {
        let violations = validate(value, maxViolations: maxViolations)
        if !violations.isEmpty { throw JSONSchemaValidationError(violations: violations) }
    }

    /// The yes/no answer, and the budget it was reached with.
    func quickCheck(_ value: JSONValue) -> (valid: Bool, budget: Int) {
        var sink = ViolationSink(collecting: false, limit: 0, budget: baseBudget)
        let valid = program.evaluate(0, value, depth: 0, &sink)
        // An exhausted budget fails the whole validation, even under `not`.
        if sink.budget > 0 { return (valid, baseBudget) }
        // Out of budget: a big value earns more room (this walk only happens here).
        let scaled = Self.evaluationsPerValueNode &* nodeCount(value, upTo: Int.max / Self.evaluationsPerValueNode)
        guard scaled > baseBudget else { return (false, baseBudget) }
        var retry = ViolationSink(collecting: false, limit: 0, budget: scaled)
        let retried = program.evaluate(0, value, depth: 0, &retry)
        return (retried && retry.budget > 0, scaled)
    }
}

/// The number of values in `value` (itself included), iteratively.
func nodeCount(_ value: JSONValue, upTo limit: Int) -> Int {
    var count = 0
    var stack: [JSONValue] = [value]
    while let next = stack.popLast(), count < limit {
        count += 1
        switch next {
        case .array(let elements): stack.append(contentsOf: elements)
        case .object(let object): for entry in object { stack.append(entry.value) }
        default: break
        }
    }
    return count
}

// MARK: - Compiled form

struct TypeMask: OptionSet, Sendable, Hashable {
    let rawValue: UInt8
    static let null = TypeMask(rawValue: 1)
    static let boolean = TypeMask(rawValue: 2)
    static let integer = TypeMask(rawValue: 4)
    static let number = TypeMask(rawValue: 8)
    static let string = TypeMask(rawValue: 16)
    static let array = TypeMask(rawValue: 32)
    static let object = TypeMask(rawValue: 64)

    static func named(_ name: String) -> TypeMask? {
        switch name {
        case "null": return .null
        case "boolean": return .boolean
        case "integer": return .integer
        case "number": return .number
        case "string": return .string
        case "array": return .array
        case "object": return .object
        default: return nil
        }
    }

    @inline(__always) func matches(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return contains(.null)
        case .bool: return contains(.boolean)
        case .int: return !isDisjoint(with: [.integer, .number])
        case .double(let d): return contains(.number) || (contains(.integer) && d.isFinite && d.rounded() == d)
        case .string: return contains(.string)
        case .array: return contains(.array)
        case .object: return contains(.object)
        }
    }
}

struct TypeCheck: Sendable {
    var mask: TypeMask
    /// As written in the schema, for messages ("string or null").
    var names: [String]
}

enum NumberLimit: Sendable, CustomStringConvertible {
    case int(Int64)
    case double(Double)

    var description: String {
        switch self {
        case .int(let i): return String(i)
        case .double(let d): return JSONValue.double(d).jsonString
        }
    }
}

final class RegexBox: @unchecked Sendable {
    // NSRegularExpression is immutable and documented as safe to use from several threads.
    let source: String
    let regex: NSRegularExpression

    init(_ source: String) throws {
        self.source = source
        self.regex = try NSRegularExpression(pattern: Self.translate(source), options: [])
    }

    func matches(_ string: String) -> Bool {
        let range = NSRange(location: 0, length: string.utf16.count)
        return regex.firstMatch(in: string, options: [], range: range) != nil
    }

    /// Brings ECMA-262 patterns closer to ICU: `\d` means ASCII digits in ECMAScript, Unicode
    /// digits in ICU. Everything else used in practice (classes, quantifiers, groups, anchors,
    /// lookaround, `\p{…}`) means the same in both.
    static func translate(_ pattern: String) -> String {
        guard pattern.contains("\\") || pattern.contains("[") else { return pattern }
        var out = ""
        var inClass = false
        var iterator = pattern.makeIterator()
        while let c = iterator.next() {
            if c == "\\" {
                guard let next = iterator.next() else { out.append(c); break }
                switch next {
                case "d": out += inClass ? "0-9" : "[0-9]"
                case "D": out += inClass ? "\\D" : "[^0-9]"
                default: out.append(c); out.append(next)
                }
                continue
            }
            if c == "[" {
                if inClass { out += "\\["; continue }  // ECMAScript: a literal; ICU: a nested set
                inClass = true
            } else if c == "]" {
                inClass = false
            }
            out.append(c)
        }
        return out
    }
}

struct PropertyRules: Sendable {
    var names: [String] = []
    var nodes: [Int] = []
    /// Index into `names`, used instead of the linear scan when there are many properties.
    var lookup: [String: Int]? = nil
    var patterns: [(regex: RegexBox, node: Int)] = []
    var additional: Int? = nil
    var additionalIsFalse = false

    @inline(__always) func node(for key: String) -> Int? {
        if let lookup, let i = lookup[key], sameString(names[i], key) { return nodes[i] }
        // (Also the fallback when the dictionary, which matches canonically equivalent keys,
        // found a different spelling.)
        for i in names.indices where sameString(names[i], key) { return nodes[i] }
        return nil
    }
}

struct ItemRules: Sendable {
    var prefix: [Int] = []
    var rest: Int? = nil
    var restIsFalse = false
    /// `items` (2020-12) or `additionalItems` (array-form `items`), for messages.
    var restKeyword = "items"
}

struct ContainsRule: Sendable {
    var node: Int
    var min: Int
    var max: Int?
}

struct Combinator: Sendable {
    var nodes: [Int]
    /// Set when every branch is nothing but a `type` check: then a failure can say
    /// "expected string or null" instead of "does not match any schema in anyOf".
    var typeUnion: [String]?
}

struct Dependency: Sendable {
    var property: String
    var required: [String]
}

struct DependentSchema: Sendable {
    var property: String
    var node: Int
}

enum Format: String, Sendable {
    case dateTime = "date-time"
    case date
    case email
    case uri
    case uuid
    case ipv4
}

enum Check: Sendable {
    case never
    case type(TypeCheck)
    case const(JSONValue)
    case enumeration([JSONValue])
    case properties(PropertyRules)
    case required([String])
    case dependentRequired([Dependency])
    case dependentSchemas([DependentSchema])
    case propertyNames(Int)
    case minProperties(Int)
    case maxProperties(Int)
    case items(ItemRules)
    case contains(ContainsRule)
    case minItems(Int)
    case maxItems(Int)
    case uniqueItems
    case minimum(NumberLimit, exclusive: Bool)
    case maximum(NumberLimit, exclusive: Bool)
    case multipleOf(NumberLimit)
    case minLength(Int)
    case maxLength(Int)
    case pattern(RegexBox)
    case format(Format)
    case allOf([Int])
    case anyOf(Combinator)
    case oneOf(Combinator)
    case not(Int)
    case conditional(if: Int, then: Int?, else: Int?)
    case ref(Int, keyword: String)
}

struct SchemaNode: Sendable {
    var checks: [Check]
    /// JSON Pointer of this subschema in the schema document.
    var pointer: String
}

// MARK: - Evaluation

enum PathComponent {
    case key(String)
    case index(Int)
}

struct ViolationSink {
    /// Collect violations (with paths), or just answer yes/no and stop at the first failure.
    let collecting: Bool
    let limit: Int
    /// Whether anyOf/oneOf failures list each branch's reason (off inside such a reason).
    var explainBranches = true
    /// Subschema applications left before giving up; shared with yes/no sub-evaluations.
    var budget: Int
    var path: [PathComponent] = []
    var violations: [JSONSchemaViolation] = []

    init(collecting: Bool, limit: Int, budget: Int) {
        self.collecting = collecting
        self.limit = limit
        self.budget = budget
    }

    /// Evaluation should stop at the next failure: yes/no mode, or enough violations collected.
    var stopOnFailure: Bool { !collecting || violations.count >= limit }

    /// Records a failure (when collecting and below the limit).
    @inline(__always)
    mutating func fail(_ keyword: String, _ pointer: String, _ detail: @autoclosure () -> String) {
        guard collecting, violations.count < limit else { return }
        violations.append(
            JSONSchemaViolation(instancePath: instancePath, schemaPath: pointer + "/" + keyword, keyword: keyword, detail: detail()))
    }

    var instancePath: String {
        var out = ""
        for component in path {
            out += "/"
            switch component {
            case .key(let key): out += escapePointerToken(key)
            case .index(let index): out += String(index)
            }
        }
        return out
    }
}

// The evaluator keeps the frames on the recursive path small (one `evaluate` + one `apply` + one
// applicator per level of subschema), with message building out of line, so that deep recursion
// fits comfortably in small thread stacks.
final class SchemaProgram: Sendable {
    let nodes: [SchemaNode]

    init(nodes: [SchemaNode]) { self.nodes = nodes }

    func evaluate(_ index: Int, _ value: JSONValue, depth: Int, _ sink: inout ViolationSink) -> Bool {
        let node = nodes[index]
        if node.checks.isEmpty { return true }
        sink.budget -= 1
        guard depth < CompiledSchema.maxEvaluationDepth, sink.budget > 0 else {
            limitReached(node.pointer, depth: depth, &sink)
            return false
        }
        var valid = true
        for check in node.checks where !apply(check, value, node.pointer, depth: depth, &sink) {
            valid = false
            if sink.stopOnFailure { return false }
        }
        return valid
    }

    /// One check; false when it failed (and was reported, when collecting). The common checks are
    /// handled here, the rest out of line so that this frame, which recursion passes through, stays small.
    @inline(__always)
    func apply(_ check: Check, _ value: JSONValue, _ pointer: String, depth: Int, _ sink: inout ViolationSink) -> Bool {
        switch check {
        case .type(let type):
            if type.mask.matches(value) { return true }
            reportType(type, value, pointer, &sink)
            return false
        case .required(let names):
            guard case .object(let object) = value else { return true }
            for name in names where !hasKey(object, name) { return reportRequired(names, object, pointer, &sink) }
            return true
        case .properties(let rules):
            guard case .object(let object) = value else { return true }
            return applyProperties(rules, object, pointer, depth: depth, &sink)
        case .items(let rules):
            guard case .array(let elements) = value else { return true }
            return applyItems(rules, elements, pointer, depth: depth, &sink)
        case .ref(let target, _):
            return evaluate(target, value, depth: depth + 1, &sink)
        case .dependentSchemas, .propertyNames, .contains, .allOf, .anyOf, .oneOf, .not, .conditional:
            return applyCombinator(check, value, pointer, depth: depth, &sink)
        default:
            return applyLeaf(check, value, pointer, depth: depth, &sink)
        }
    }

    /// Applicators that are less common on the hot path.
    @inline(never)
    func applyCombinator(_ check: Check, _ value: JSONValue, _ pointer: String, depth: Int, _ sink: inout ViolationSink) -> Bool {
        switch check {
        case .dependentSchemas(let dependencies):
            guard case .object(let object) = value else { return true }
            var valid = true
            for dependency in dependencies where hasKey(object, dependency.property) {
                if !evaluate(dependency.node, value, depth: depth + 1, &sink) {
                    valid = false
                    if sink.stopOnFailure { return false }
                }
            }
            return valid
        case .propertyNames(let child):
            guard case .object(let object) = value else { return true }
            return applyPropertyNames(child, object, pointer, depth: depth, &sink)
        case .contains(let rule):
            guard case .array(let elements) = value else { return true }
            return applyContains(rule, elements, pointer, depth: depth, &sink)
        case .allOf(let children):
            var valid = true
            for child in children where !evaluate(child, value, depth: depth + 1, &sink) {
                valid = false
                if sink.stopOnFailure { return false }
            }
            return valid
        case .anyOf(let combinator):
            for child in combinator.nodes where test(child, value, depth: depth, &sink) { return true }
            reportNoMatch("anyOf", combinator, value, pointer, depth: depth, &sink)
            return false
        case .oneOf(let combinator):
            return applyOneOf(combinator, value, pointer, depth: depth, &sink)
        case .not(let child):
            guard test(child, value, depth: depth, &sink) else { return true }
            sink.fail("not", pointer, "must not match the schema in 'not'")
            return false
        case .conditional(let condition, let then, let otherwise):
            guard let branch = test(condition, value, depth: depth, &sink) ? then : otherwise else { return true }
            return evaluate(branch, value, depth: depth + 1, &sink)
        default:
            assertionFailure("check routed to the wrong function")
            return true
        }
    }

    /// Checks that do not apply subschemas.
    @inline(never)
    func applyLeaf(_ check: Check, _ value: JSONValue, _ pointer: String, depth: Int, _ sink: inout ViolationSink) -> Bool {
        switch check {
        case .never:
            sink.fail("false", pointer, "no value is allowed here")
            return false
        case .const(let expected):
            if value.jsonEquals(expected) { return true }
            reportConst(expected, value, pointer, &sink)
            return false
        case .enumeration(let options):
            for option in options where value.jsonEquals(option) { return true }
            reportEnum(options, value, pointer, &sink)
            return false
        case .dependentRequired(let dependencies):
            guard case .object(let object) = value else { return true }
            return applyDependentRequired(dependencies, object, pointer, &sink)
        case .minProperties(let limit):
            guard case .object(let object) = value, object.count < limit else { return true }
            reportCount("minProperties", limit, object.count, pointer, &sink)
            return false
        case .maxProperties(let limit):
            guard case .object(let object) = value, object.count > limit else { return true }
            reportCount("maxProperties", limit, object.count, pointer, &sink)
            return false
        case .minItems(let limit):
            guard case .array(let elements) = value, elements.count < limit else { return true }
            reportCount("minItems", limit, elements.count, pointer, &sink)
            return false
        case .maxItems(let limit):
            guard case .array(let elements) = value, elements.count > limit else { return true }
            reportCount("maxItems", limit, elements.count, pointer, &sink)
            return false
        case .uniqueItems:
            guard case .array(let elements) = value, let pair = firstDuplicate(elements) else { return true }
            sink.fail("uniqueItems", pointer, "must not contain duplicates: items \(pair.0) and \(pair.1) are equal")
            return false
        case .minimum(let limit, let exclusive):
            guard let order = compareNumber(value, limit), exclusive ? order <= 0 : order < 0 else { return true }
            reportBound(isMinimum: true, exclusive: exclusive, limit, value, pointer, &sink)
            return false
        case .maximum(let limit, let exclusive):
            guard let order = compareNumber(value, limit), exclusive ? order >= 0 : order > 0 else { return true }
            reportBound(isMinimum: false, exclusive: exclusive, limit, value, pointer, &sink)
            return false
        case .multipleOf(let divisor):
            guard let isMultiple = isMultiple(value, of: divisor), !isMultiple else { return true }
            sink.fail("multipleOf", pointer, "\(brief(value)) is not a multiple of \(divisor)")
            return false
        case .minLength(let limit):
            guard case .string(let string) = value else { return true }
            // Code points, not bytes or graphemes; at most 4 bytes each bounds the count cheaply.
            let bytes = string.utf8.count
            guard bytes < limit || (bytes < limit &* 4 && string.unicodeScalars.count < limit) else { return true }
            reportLength("minLength", limit, string, pointer, &sink)
            return false
        case .maxLength(let limit):
            guard case .string(let string) = value, string.utf8.count > limit, string.unicodeScalars.count > limit else {
                return true
            }
            reportLength("maxLength", limit, string, pointer, &sink)
            return false
        case .pattern(let regex):
            guard case .string(let string) = value, !regex.matches(string) else { return true }
            sink.fail("pattern", pointer, "\(brief(value)) does not match the pattern \(brief(.string(regex.source)))")
            return false
        case .format(let format):
            guard case .string(let string) = value, !FormatChecker.check(format, string) else { return true }
            sink.fail("format", pointer, "\(brief(value)) is not a valid \(format.rawValue)")
            return false
        default:
            assertionFailure("check routed to the wrong function")
            return true
        }
    }

    /// Yes/no evaluation whatever mode the caller is in (anyOf, oneOf, not, if, contains,
    /// propertyNames), drawing on the caller's budget.
    func test(_ index: Int, _ value: JSONValue, depth: Int, _ sink: inout ViolationSink) -> Bool {
        var probe = ViolationSink(collecting: false, limit: 0, budget: sink.budget)
        let ok = evaluate(index, value, depth: depth + 1, &probe)
        sink.budget = probe.budget
        return ok
    }

    /// Applies subschema `index` to a member of the current value.
    @inline(__always)
    func descend(_ index: Int, _ value: JSONValue, _ component: PathComponent, depth: Int, _ sink: inout ViolationSink)
        -> Bool
    {
        if sink.collecting { push(component, &sink) }
        let ok = evaluate(index, value, depth: depth + 1, &sink)
        if sink.collecting { pop(&sink) }
        return ok
    }

    @inline(never) func push(_ component: PathComponent, _ sink: inout ViolationSink) { sink.path.append(component) }
    @inline(never) func pop(_ sink: inout ViolationSink) { sink.path.removeLast() }

    // MARK: Applicators

    func applyProperties(_ rules: PropertyRules, _ object: JSONObject, _ pointer: String, depth: Int, _ sink: inout ViolationSink)
        -> Bool
    {
        var valid = true
        for entry in object {
            var matched = false
            if let child = rules.node(for: entry.key) {
                matched = true
                if !descend(child, entry.value, .key(entry.key), depth: depth, &sink) {
                    valid = false
                    if sink.stopOnFailure { return false }
                }
            }
            for pattern in rules.patterns where pattern.regex.matches(entry.key) {
                matched = true
                if !descend(pattern.node, entry.value, .key(entry.key), depth: depth, &sink) {
                    valid = false
                    if sink.stopOnFailure { return false }
                }
            }
            if !matched, let additional = rules.additional {
                if rules.additionalIsFalse {
                    reportUnexpected(entry.key, pointer, &sink)
                    valid = false
                    if sink.stopOnFailure { return false }
                } else if !descend(additional, entry.value, .key(entry.key), depth: depth, &sink) {
                    valid = false
                    if sink.stopOnFailure { return false }
                }
            }
        }
        return valid
    }

    func applyItems(_ rules: ItemRules, _ elements: [JSONValue], _ pointer: String, depth: Int, _ sink: inout ViolationSink)
        -> Bool
    {
        var valid = true
        let prefixCount = Swift.min(rules.prefix.count, elements.count)
        for i in 0..<prefixCount where !descend(rules.prefix[i], elements[i], .index(i), depth: depth, &sink) {
            valid = false
            if sink.stopOnFailure { return false }
        }
        guard let rest = rules.rest, elements.count > rules.prefix.count else { return valid }
        if rules.restIsFalse {
            reportTooManyItems(rules, elements.count, pointer, &sink)
            return false
        }
        for i in rules.prefix.count..<elements.count where !descend(rest, elements[i], .index(i), depth: depth, &sink) {
            valid = false
            if sink.stopOnFailure { return false }
        }
        return valid
    }

    func applyContains(_ rule: ContainsRule, _ elements: [JSONValue], _ pointer: String, depth: Int, _ sink: inout ViolationSink)
        -> Bool
    {
        var count = 0
        for element in elements where test(rule.node, element, depth: depth, &sink) {
            count += 1
            if let max = rule.max { if count > max { break } } else if count >= rule.min { break }
        }
        if count < rule.min {
            sink.fail(
                rule.min == 1 ? "contains" : "minContains", pointer,
                "must contain at least \(plural(rule.min, "item", "items")) matching the 'contains' schema, found \(count)")
            return false
        }
        if let max = rule.max, count > max {
            sink.fail(
                "maxContains", pointer, "must contain at most \(plural(max, "item", "items")) matching the 'contains' schema, found more")
            return false
        }
        return true
    }

    func applyPropertyNames(_ child: Int, _ object: JSONObject, _ pointer: String, depth: Int, _ sink: inout ViolationSink)
        -> Bool
    {
        var valid = true
        for entry in object where !test(child, .string(entry.key), depth: depth, &sink) {
            if sink.collecting {
                let why = reason(child, .string(entry.key), depth: depth)
                sink.fail("propertyNames", pointer, "property name '\(entry.key)' is invalid: \(why)")
            }
            valid = false
            if sink.stopOnFailure { return false }
        }
        return valid
    }

    func applyDependentRequired(_ dependencies: [Dependency], _ object: JSONObject, _ pointer: String, _ sink: inout ViolationSink)
        -> Bool
    {
        var valid = true
        for dependency in dependencies where hasKey(object, dependency.property) {
            for name in dependency.required where !hasKey(object, name) {
                sink.fail(
                    "dependentRequired", pointer, "missing property '\(name)', required when '\(dependency.property)' is present")
                valid = false
                if sink.stopOnFailure { return false }
            }
        }
        return valid
    }

    func applyOneOf(_ combinator: Combinator, _ value: JSONValue, _ pointer: String, depth: Int, _ sink: inout ViolationSink)
        -> Bool
    {
        var matches = 0
        for child in combinator.nodes where test(child, value, depth: depth, &sink) {
            matches += 1
            if matches == 2 { break }
        }
        if matches == 1 { return true }
        if matches == 0 {
            reportNoMatch("oneOf", combinator, value, pointer, depth: depth, &sink)
        } else if sink.collecting {
            var matched: [Int] = []
            for (i, child) in combinator.nodes.enumerated() where test(child, value, depth: depth, &sink) { matched.append(i) }
            sink.fail(
                "oneOf", pointer,
                "must match exactly one schema in oneOf, matched \(matched.count) (branches \(matched.map(String.init).joined(separator: ", ")))")
        }
        return false
    }

    // MARK: Reporting (out of line: keeps string building off the recursive path)

    @inline(never)
    func limitReached(_ pointer: String, depth: Int, _ sink: inout ViolationSink) {
        if depth >= CompiledSchema.maxEvaluationDepth {
            sink.fail("$ref", pointer, "schema applied more than \(CompiledSchema.maxEvaluationDepth) levels deep; giving up")
        } else {
            sink.fail("$ref", pointer, CompiledSchema.tooMuchWork)
        }
    }

    @inline(never)
    func reportType(_ type: TypeCheck, _ value: JSONValue, _ pointer: String, _ sink: inout ViolationSink) {
        sink.fail("type", pointer, "expected \(listNames(type.names)), got \(value.typeName)")
    }

    @inline(never)
    func reportConst(_ expected: JSONValue, _ value: JSONValue, _ pointer: String, _ sink: inout ViolationSink) {
        sink.fail("const", pointer, "must be \(brief(expected)), got \(brief(value))")
    }

    @inline(never)
    func reportEnum(_ options: [JSONValue], _ value: JSONValue, _ pointer: String, _ sink: inout ViolationSink) {
        sink.fail("enum", pointer, "must be one of \(briefList(options)), got \(brief(value))")
    }

    @inline(never)
    func reportRequired(_ names: [String], _ object: JSONObject, _ pointer: String, _ sink: inout ViolationSink) -> Bool {
        for name in names where !hasKey(object, name) {
            sink.fail("required", pointer, "missing required property '\(name)'")
            if sink.stopOnFailure { break }
        }
        return false
    }

    @inline(never)
    func reportUnexpected(_ key: String, _ pointer: String, _ sink: inout ViolationSink) {
        sink.fail("additionalProperties", pointer, "unexpected property '\(key)'")
    }

    @inline(never)
    func reportCount(_ keyword: String, _ limit: Int, _ actual: Int, _ pointer: String, _ sink: inout ViolationSink) {
        let noun = keyword.hasSuffix("Items") ? plural(limit, "item", "items") : plural(limit, "property", "properties")
        let bound = keyword.hasPrefix("min") ? "at least" : "at most"
        sink.fail(keyword, pointer, "must have \(bound) \(noun), got \(actual)")
    }

    @inline(never)
    func reportTooManyItems(_ rules: ItemRules, _ count: Int, _ pointer: String, _ sink: inout ViolationSink) {
        sink.fail(
            rules.restKeyword, pointer,
            rules.prefix.isEmpty
                ? "must be an empty array, got \(plural(count, "item", "items"))"
                : "must have at most \(plural(rules.prefix.count, "item", "items")), got \(count)")
    }

    @inline(never)
    func reportBound(
        isMinimum: Bool, exclusive: Bool, _ limit: NumberLimit, _ value: JSONValue, _ pointer: String, _ sink: inout ViolationSink
    ) {
        switch (isMinimum, exclusive) {
        case (true, false): sink.fail("minimum", pointer, "\(brief(value)) is less than the minimum \(limit)")
        case (true, true): sink.fail("exclusiveMinimum", pointer, "\(brief(value)) must be greater than \(limit) (exclusiveMinimum)")
        case (false, false): sink.fail("maximum", pointer, "\(brief(value)) is greater than the maximum \(limit)")
        case (false, true): sink.fail("exclusiveMaximum", pointer, "\(brief(value)) must be less than \(limit) (exclusiveMaximum)")
        }
    }

    @inline(never)
    func reportLength(_ keyword: String, _ limit: Int, _ string: String, _ pointer: String, _ sink: inout ViolationSink) {
        let bound = keyword == "minLength" ? "at least" : "at most"
        sink.fail(
            keyword, pointer,
            "must be \(bound) \(plural(limit, "character", "characters")) long, got \(string.unicodeScalars.count)")
    }

    /// Why no branch of anyOf/oneOf matched: "expected string or null, got integer" when the
    /// branches are plain types, else each branch's first failure (for up to 4 branches).
    @inline(never)
    func reportNoMatch(
        _ keyword: String, _ combinator: Combinator, _ value: JSONValue, _ pointer: String, depth: Int,
        _ sink: inout ViolationSink
    ) {
        guard sink.collecting, sink.violations.count < sink.limit else { return }
        if let names = combinator.typeUnion {
            sink.fail(keyword, pointer, "expected \(listNames(names)), got \(value.typeName)")
            return
        }
        var text = "must match \(keyword == "oneOf" ? "exactly" : "at least") one schema in \(keyword), matched none"
        if sink.explainBranches, combinator.nodes.count <= 4 {
            let reasons = combinator.nodes.enumerated().map { "\($0.offset): \(reason($0.element, value, depth: depth))" }
            text += " (" + reasons.joined(separator: "; ") + ")"
        }
        sink.fail(keyword, pointer, text)
    }

    /// The first reason `value` fails subschema `index`, for nested messages. Has its own small
    /// budget and does not explain nested branches, so messages stay cheap.
    func reason(_ index: Int, _ value: JSONValue, depth: Int) -> String {
        var sink = ViolationSink(collecting: true, limit: 1, budget: 10_000)
        sink.explainBranches = false
        _ = evaluate(index, value, depth: depth + 1, &sink)
        return sink.violations.first?.message ?? "does not match"
    }
}

// MARK: - Evaluation helpers

/// Code-point equality, as JSON Schema compares property names. (Swift's `==` treats
/// canonically equivalent strings as equal: "é" and "e\u{301}", "K" and the Kelvin sign.)
@inline(__always) func sameString(_ a: String, _ b: String) -> Bool {
    // Native strings are contiguous UTF-8: compare bytes (as fast as `==`; `utf8.elementsEqual`
    // is several times slower).
    let fast = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in
            x.count == y.count && (x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
        }
    }
    if let fast, let fast { return fast }
    return a.utf8.elementsEqual(b.utf8)
}

@inline(__always) func hasKey(_ object: JSONObject, _ key: String) -> Bool {
    for entry in object.entries where sameString(entry.key, key) { return true }
    return false
}

func escapePointerToken(_ token: String) -> String {
    guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return token }
    var out = ""
    for c in token.unicodeScalars {
        switch c {
        case "~": out += "~0"
        case "/": out += "~1"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// A value as it appears in a message: JSON, cut at about 60 bytes. Only the part shown is
/// serialized, however big the value.
func brief(_ value: JSONValue) -> String {
    var out: [UInt8] = []
    writeBrief(value, &out)
    guard out.count > 64 else { return String(decoding: out, as: UTF8.self) }
    var end = 60
    while end > 0, out[end] & 0xC0 == 0x80 { end -= 1 }  // not inside a UTF-8 sequence
    return String(decoding: out[..<end], as: UTF8.self) + "…"
}

private func writeBrief(_ value: JSONValue, _ out: inout [UInt8]) {
    guard out.count <= 64 else { return }
    switch value {
    case .string(let string):
        let head = string.unicodeScalars.prefix(65)
        JSONValue.writeString(head.count < 65 ? string : String(String.UnicodeScalarView(head)), to: &out)
    case .array(let elements):
        out.append(UInt8(ascii: "["))
        for (i, element) in elements.enumerated() {
            if out.count > 64 { return }
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writeBrief(element, &out)
        }
        out.append(UInt8(ascii: "]"))
    case .object(let object):
        out.append(UInt8(ascii: "{"))
        for (i, entry) in object.entries.enumerated() {
            if out.count > 64 { return }
            if i > 0 { out.append(UInt8(ascii: ",")) }
            writeBrief(.string(entry.key), &out)
            out.append(UInt8(ascii: ":"))
            writeBrief(entry.value, &out)
        }
        out.append(UInt8(ascii: "}"))
    default:
        value.write(to: &out)
    }
}

func briefList(_ values: [JSONValue]) -> String {
    let shown = values.prefix(10).map(brief).joined(separator: ", ")
    return values.count > 10 ? shown + ", … (\(values.count) values)" : shown
}

/// "string", "string or null", "string, number or null".
func listNames(_ names: [String]) -> String {
    guard names.count > 1 else { return names.first ?? "nothing" }
    return names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
}

func plural(_ count: Int, _ singular: String, _ pluralForm: String) -> String {
    "\(count) \(count == 1 ? singular : pluralForm)"
}

/// Exact-as-possible comparison of a JSON number with a limit: -1, 0, 1; nil when `value` is not
/// a number (or NaN is involved).
func compareNumber(_ value: JSONValue, _ limit: NumberLimit) -> Int? {
    switch (value, limit) {
    case (.int(let a), .int(let b)): return a < b ? -1 : (a == b ? 0 : 1)
    case (.int(let a), .double(let b)): return compareIntDouble(a, b)
    case (.double(let a), .int(let b)): return compareIntDouble(b, a).map { -$0 }
    case (.double(let a), .double(let b)):
        if a.isNaN || b.isNaN { return nil }
        return a < b ? -1 : (a == b ? 0 : 1)
    default: return nil
    }
}

func compareIntDouble(_ a: Int64, _ b: Double) -> Int? {
    if b.isNaN { return nil }
    if b >= 9_223_372_036_854_775_808.0 { return -1 }
    if b < -9_223_372_036_854_775_808.0 { return 1 }
    let floor = b.rounded(.down)
    let whole = Int64(floor)
    if a < whole { return -1 }
    if a > whole { return 1 }
    return floor == b ? 0 : -1
}

/// nil when `value` is not a number.
func isMultiple(_ value: JSONValue, of divisor: NumberLimit) -> Bool? {
    if case .int(let a) = value, case .int(let d) = divisor { return a % d == 0 }
    guard let x = value.doubleValue else { return nil }
    let d: Double
    switch divisor {
    case .int(let i): d = Double(i)
    case .double(let v): d = v
    }
    let quotient = x / d
    guard quotient.isFinite else { return false }
    let rounded = quotient.rounded()
    // A little slack for binary fractions: 0.3 is a multiple of 0.1.
    return Swift.abs(quotient - rounded) <= Swift.max(1, Swift.abs(quotient)) * 1e-12
}

/// Indices of the first two equal items, nil when all differ.
func firstDuplicate(_ elements: [JSONValue]) -> (Int, Int)? {
    if elements.count <= 16 {
        for i in elements.indices {
            for j in (i + 1)..<elements.count where elements[i].jsonEquals(elements[j]) { return (i, j) }
        }
        return nil
    }
    // Bucket by a hash that agrees with `jsonEquals` (1 == 1.0, key order ignored), so that big
    // arrays are not quadratic.
    var buckets: [Int: [Int]] = [:]
    for (j, element) in elements.enumerated() {
        let hash = semanticHash(element)
        if let i = buckets[hash]?.first(where: { elements[$0].jsonEquals(element) }) { return (i, j) }
        buckets[hash, default: []].append(j)
    }
    return nil
}

func semanticHash(_ value: JSONValue) -> Int {
    var hasher = Hasher()
    feedSemanticHash(value, into: &hasher, depth: 0)
    return hasher.finalize()
}

private func feedSemanticHash(_ value: JSONValue, into hasher: inout Hasher, depth: Int) {
    guard depth < 64 else { return }  // equal values still hash equally; deeper parts just collide
    switch value {
    case .null: hasher.combine(0)
    case .bool(let b): hasher.combine(1); hasher.combine(b)
    case .int, .double:
        hasher.combine(2)
        // Ints beyond 2^53 would round; collisions there are harmless.
        hasher.combine(value.doubleValue ?? 0)
    case .string(let s): hasher.combine(3); hasher.combine(s)
    case .array(let elements):
        hasher.combine(4)
        hasher.combine(elements.count)
        for element in elements { feedSemanticHash(element, into: &hasher, depth: depth + 1) }
    case .object(let object):
        hasher.combine(5)
        // Order-independent: sum of the entries' own hashes.
        var sum = 0
        for entry in object {
            var inner = Hasher()
            inner.combine(entry.key)
            feedSemanticHash(entry.value, into: &inner, depth: depth + 1)
            sum = sum &+ inner.finalize()
        }
        hasher.combine(sum)
    }
}

// MARK: - Formats

enum FormatChecker {
    static func check(_ format: Format, _ string: String) -> Bool {
        let bytes = Array(string.utf8)
        switch format {
        case .dateTime: return dateTime(bytes)
        case .date: return bytes.count == 10 && date(bytes[...])
        case .email: return email(bytes)
        case .uri: return uri(bytes)
        case .uuid: return uuid(bytes)
        case .ipv4: return ipv4(string)
        }
    }

    static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for b in bytes {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))
        }
        return value
    }

    /// YYYY-MM-DD with a real day of that month.
    static func date(_ b: ArraySlice<UInt8>) -> Bool {
        guard b.count == 10 else { return false }
        let s = b.startIndex
        guard b[s + 4] == UInt8(ascii: "-"), b[s + 7] == UInt8(ascii: "-"),
            let year = digits(b[s..<s + 4]), let month = digits(b[s + 5..<s + 7]), let day = digits(b[s + 8..<s + 10])
        else { return false }
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    /// HH:MM:SS[.frac](Z|±HH:MM)
    static func time(_ b: ArraySlice<UInt8>) -> Bool {
        guard b.count >= 9 else { return false }
        let s = b.startIndex
        guard b[s + 2] == UInt8(ascii: ":"), b[s + 5] == UInt8(ascii: ":"),
            let hour = digits(b[s..<s + 2]), let minute = digits(b[s + 3..<s + 5]), let second = digits(b[s + 6..<s + 8]),
            hour <= 23, minute <= 59, second <= 60
        else { return false }
        var i = s + 8
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.endIndex, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            guard i > start else { return false }
        }
        guard i < b.endIndex else { return false }
        var offset = 0  // minutes east of UTC
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == b.endIndex else { return false }
        } else {
            guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.endIndex - i == 6, b[i + 3] == UInt8(ascii: ":"),
                let offsetHour = digits(b[i + 1..<i + 3]), let offsetMinute = digits(b[i + 4..<i + 6]), offsetHour <= 23,
                offsetMinute <= 59
            else { return false }
            offset = (offsetHour * 60 + offsetMinute) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        // A leap second exists only at 23:59:60 UTC.
        if second == 60 {
            let utc = ((hour * 60 + minute - offset) % 1440 + 1440) % 1440
            return utc == 23 * 60 + 59
        }
        return true
    }

    static func dateTime(_ b: [UInt8]) -> Bool {
        guard b.count >= 20 else { return false }
        let separator = b[10]
        guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == UInt8(ascii: " ") else {
            return false
        }
        return date(b[0..<10]) && time(b[11...])
    }

    static func isSpaceOrControl(_ b: UInt8) -> Bool { b <= 0x20 || b == 0x7F }

    /// local@domain (RFC 5321, loosely): a quoted or dot-atom local part; a host name of
    /// letters, digits and hyphens, or an address literal `[1.2.3.4]` / `[IPv6:…]`.
    static func email(_ b: [UInt8]) -> Bool {
        guard let at = b.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let local = b[..<at]
        let domain = b[(at + 1)...]
        guard !local.isEmpty, !domain.isEmpty, !domain.contains(where: isSpaceOrControl) else { return false }
        if local.count >= 2, local.first == UInt8(ascii: "\""), local.last == UInt8(ascii: "\"") {
            guard !local.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return false }
        } else {
            guard !local.contains(where: isSpaceOrControl), !local.contains(UInt8(ascii: "@")),
                local.first != UInt8(ascii: "."), local.last != UInt8(ascii: "."),
                !zip(local, local.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") })
            else { return false }
        }
        if domain.first == UInt8(ascii: "[") {
            guard domain.last == UInt8(ascii: "]"), domain.count > 2 else { return false }
            let literal = domain.dropFirst().dropLast()
            if literal.starts(with: "IPv6:".utf8) { return true }
            return ipv4(String(decoding: literal, as: UTF8.self))
        }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else {
                return false
            }
            // Non-ASCII bytes are allowed: internationalized domains.
            return label.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 >= 0x80 }
        }
    }

    static func isAlphanumeric(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z"))
    }

    static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "f"))
    }

    /// Characters RFC 3986 allows anywhere in a URI (besides letters, digits and `%`).
    static let uriCharacters: Set<UInt8> = Set("-._~:/?#[]@!$&'()*+,;=".utf8)

    /// scheme ":" rest, the rest made only of characters a URI may contain.
    static func uri(_ b: [UInt8]) -> Bool {
        guard let colon = b.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z") }
        guard isAlpha(b[0]) else { return false }
        for c in b[1..<colon] {
            guard isAlpha(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "+")
                || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
            else { return false }
        }
        // Only ASCII URI characters, and `%` only in `%HH`.
        var i = colon + 1
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < b.count, isHexDigit(b[i + 1]), isHexDigit(b[i + 2]) else { return false }
                i += 3
                continue
            }
            guard isAlphanumeric(c) || uriCharacters.contains(c) else { return false }
            i += 1
        }
        return true
    }

    static func uuid(_ b: [UInt8]) -> Bool {
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                let isHex =
                    (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "f"))
                guard isHex else { return false }
            }
        }
        return true
    }

    static func ipv4(_ string: String) -> Bool {
        let parts = string.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard part.count >= 1, part.count <= 3, let value = digits(ArraySlice(part)), value <= 255 else { return false }
            return part.count == 1 || part.first != UInt8(ascii: "0")
        }
    }
}

// MARK: - Compilation

struct SchemaCompiler {
    let root: JSONValue
    let checkFormats: Bool
    var nodes: [SchemaNode] = []
    var indexByPointer: [String: Int] = [:]
    /// Subschemas applied to the same value as their parent ($ref, allOf, …): a cycle among these
    /// would never terminate.
    var sameValueEdges: [[Int]] = []
    /// "<resource URI>#<name>" → pointer, for `$anchor`, `$dynamicAnchor` and `$id: "#name"`.
    var anchors: [String: String] = [:]
    /// Absolute URI (no fragment) of each schema resource (the root, every `$id`) → pointer.
    var resources: [String: String] = [:]
    /// The base URI in effect at each subschema holding a `$ref`-like keyword.
    var refBases: [String: String] = [:]
    /// `$ref` targets reserved but not compiled yet. Compiling them from this list rather than
    /// recursively keeps the compiler's stack depth bounded by the schema's own nesting.
    var pending: [(index: Int, schema: JSONValue, pointer: String)] = []
    /// The base URI of a schema without `$id`, so relative references have something to resolve
    /// against; nothing outside the document is ever fetched.
    static let defaultBase = "file:///mcp-host/schema.json"
    /// The root declares draft-07 or older: there, keywords beside `$ref` are ignored.
    var legacyRef = false

    init(root: JSONValue, checkFormats: Bool) {
        self.root = root
        self.checkFormats = checkFormats
    }

    func error(_ pointer: String, _ message: String) -> JSONSchemaCompileError {
        JSONSchemaCompileError(schemaPath: pointer, message: message)
    }

    /// Walks the document before compiling: checks its depth, records schema resources (`$id`,
    /// resolved against the enclosing base URI), anchors, and the base URI of every `$ref`.
    mutating func prepare() throws {
        var idKeys = ["$id"]
        if case .string(let dialect) = root["$schema"] {
            legacyRef = ["draft-03", "draft-04", "draft-06", "draft-07"].contains { dialect.contains($0) }
            if dialect.contains("draft-03") || dialect.contains("draft-04") { idKeys.append("id") }
        }
        resources[Self.defaultBase] = ""
        var stack: [(value: JSONValue, pointer: String, depth: Int, base: String)] = [(root, "", 0, Self.defaultBase)]
        while let (value, pointer, depth, inherited) = stack.popLast() {
            guard depth <= CompiledSchema.maxSchemaDepth else {
                throw error(pointer, "schema nested more than \(CompiledSchema.maxSchemaDepth) levels deep")
            }
            switch value {
            case .object(let object):
                var base = inherited
                let hasRef = object["$ref"] != nil || object["$dynamicRef"] != nil || object["$recursiveRef"] != nil
                // Draft-07 and older: an `$id` beside `$ref` is ignored like every sibling.
                for key in idKeys where !(legacyRef && object["$ref"] != nil) {
                    guard case .string(let id) = object[key] else { continue }
                    if id.hasPrefix("#") {  // draft-06/07 plain-name fragment: an anchor
                        if id.count > 1 { anchors[base + id] = pointer }
                        continue
                    }
                    guard let resolved = URL(string: id, relativeTo: URL(string: base))?.absoluteString else {
                        throw error(pointer + "/" + escapePointerToken(key), "'\(id)' is not a valid URI reference")
                    }
                    let (uri, fragment) = splitFragment(resolved)
                    base = uri
                    if resources[uri] == nil { resources[uri] = pointer }
                    if !fragment.isEmpty { anchors[uri + "#" + fragment] = pointer }
                }
                if case .string(let name) = object["$anchor"] { anchors[base + "#" + name] = pointer }
                if case .string(let name) = object["$dynamicAnchor"], anchors[base + "#" + name] == nil {
                    anchors[base + "#" + name] = pointer
                }
                if hasRef { refBases[pointer] = base }
                for entry in object {
                    switch entry.key {
                    case "const", "enum", "default", "examples", "example": continue
                    default: stack.append((entry.value, pointer + "/" + escapePointerToken(entry.key), depth + 1, base))
                    }
                }
            case .array(let elements):
                for (i, element) in elements.enumerated() {
                    stack.append((element, pointer + "/\(i)", depth + 1, inherited))
                }
            default: break
            }
        }
    }

    /// "uri#fragment" → ("uri", "fragment"); a missing fragment is "".
    func splitFragment(_ reference: String) -> (String, String) {
        guard let hash = reference.firstIndex(of: "#") else { return (reference, "") }
        return (String(reference[..<hash]), String(reference[reference.index(after: hash)...]))
    }

    /// Compiles the whole document; node 0 is the root.
    mutating func compileAll() throws {
        try prepare()
        _ = try compile(root, at: "", depth: 0)
        while let next = pending.popLast() {
            let depth = next.pointer.utf8.reduce(0) { $1 == UInt8(ascii: "/") ? $0 + 1 : $0 }
            try build(next.index, next.schema, at: next.pointer, depth: depth)
        }
        try rejectNonDescendingCycles()
    }

    mutating func reserve(_ pointer: String) -> Int {
        let index = nodes.count
        nodes.append(SchemaNode(checks: [], pointer: pointer))
        sameValueEdges.append([])
        indexByPointer[pointer] = index
        return index
    }

    /// Compiles the subschema at `pointer` (once: later calls return the same node index).
    mutating func compile(_ schema: JSONValue, at pointer: String, depth: Int) throws -> Int {
        if let existing = indexByPointer[pointer] { return existing }
        let index = reserve(pointer)
        try build(index, schema, at: pointer, depth: depth)
        return index
    }

    /// The node for a `$ref` target: reserved now, compiled later from `pending`.
    mutating func reference(_ schema: JSONValue, at pointer: String) -> Int {
        if let existing = indexByPointer[pointer] { return existing }
        let index = reserve(pointer)
        pending.append((index, schema, pointer))
        return index
    }

    mutating func build(_ index: Int, _ schema: JSONValue, at pointer: String, depth: Int) throws {
        guard depth <= CompiledSchema.maxSchemaDepth else {
            throw error(pointer, "schema nested more than \(CompiledSchema.maxSchemaDepth) levels deep")
        }
        let checks: [Check]
        switch schema {
        case .bool(true): checks = []
        case .bool(false): checks = [.never]
        case .object(let object): checks = try compileObject(object, index: index, at: pointer, depth: depth)
        default: throw error(pointer, "a schema must be an object or a boolean, got \(schema.typeName)")
        }
        nodes[index].checks = checks
    }

    // swiftlint:disable:next function_body_length cyclomatic_complexity
    mutating func compileObject(_ object: JSONObject, index: Int, at pointer: String, depth: Int) throws -> [Check] {
        func path(_ keyword: String) -> String { pointer + "/" + escapePointerToken(keyword) }

        /// The subschema under `keyword` (and further tokens).
        func sub(_ value: JSONValue, _ tokens: String...) throws -> Int {
            var location = pointer
            for token in tokens { location += "/" + escapePointerToken(token) }
            return try compile(value, at: location, depth: depth + 1)
        }

        func count(_ keyword: String) throws -> Int? {
            guard let value = object[keyword] else { return nil }
            // Huge limits are clamped: no value comes near 2^31 items or characters.
            switch value {
            case .int(let n) where n >= 0: return Int(Swift.min(n, Int64(Int32.max)))
            case .double(let d) where d >= 0 && d.isFinite && d.rounded() == d: return Int(Swift.min(d, Double(Int32.max)))
            default: throw error(path(keyword), "\(keyword) must be a non-negative integer, got \(brief(value))")
            }
        }

        func number(_ keyword: String) throws -> NumberLimit? {
            guard let value = object[keyword] else { return nil }
            switch value {
            case .int(let i): return .int(i)
            case .double(let d) where d.isFinite: return .double(d)
            default: throw error(path(keyword), "\(keyword) must be a number, got \(brief(value))")
            }
        }

        func schemaArray(_ keyword: String, allowEmpty: Bool = false) throws -> [Int]? {
            guard let value = object[keyword] else { return nil }
            guard case .array(let elements) = value, allowEmpty || !elements.isEmpty else {
                throw error(path(keyword), "\(keyword) must be a non-empty array of schemas")
            }
            return try elements.enumerated().map { try sub($0.element, keyword, String($0.offset)) }
        }

        func stringArray(_ value: JSONValue, _ location: String, _ what: String) throws -> [String] {
            guard case .array(let elements) = value else { throw error(location, "\(what) must be an array of strings") }
            var strings: [String] = []
            for element in elements {
                guard case .string(let s) = element else { throw error(location, "\(what) must be an array of strings") }
                if !strings.contains(s) { strings.append(s) }
            }
            return strings
        }

        func regex(_ source: String, _ location: String) throws -> RegexBox {
            do { return try RegexBox(source) } catch {
                throw self.error(location, "'\(source)' is not a valid regular expression")
            }
        }

        var checks: [Check] = []
        var sameValue: [Int] = []

        // Definitions: compiled even when unused, so that mistakes in them surface now.
        for keyword in ["$defs", "definitions"] {
            guard let value = object[keyword] else { continue }
            guard case .object(let defs) = value else { throw error(path(keyword), "\(keyword) must be an object") }
            for entry in defs { _ = try sub(entry.value, keyword, entry.key) }
        }

        // Draft-07 and older: `$ref` replaces the whole schema (definitions beside it stay
        // reachable by pointer, compiled above).
        if legacyRef, object["$ref"] != nil {
            let node = try compileReference("$ref", object, at: pointer)
            sameValueEdges[index] = [node]
            return [.ref(node, keyword: "$ref")]
        }

        // type
        if let value = object["type"] {
            var names: [String] = []
            switch value {
            case .string(let s): names = [s]
            case .array(let elements):
                for element in elements {
                    guard case .string(let s) = element else {
                        throw error(path("type"), "type must be a string or an array of strings")
                    }
                    if !names.contains(s) { names.append(s) }
                }
            default: throw error(path("type"), "type must be a string or an array of strings, got \(value.typeName)")
            }
            guard !names.isEmpty else { throw error(path("type"), "type must not be an empty array") }
            var mask: TypeMask = []
            for name in names {
                guard let type = TypeMask.named(name) else { throw error(path("type"), "unknown type '\(name)'") }
                mask.insert(type)
            }
            checks.append(.type(TypeCheck(mask: mask, names: names)))
        }

        if let value = object["const"] { checks.append(.const(value)) }
        if let value = object["enum"] {
            guard case .array(let options) = value else { throw error(path("enum"), "enum must be an array") }
            checks.append(.enumeration(options))
        }

        // Objects. `required` first: cheapest, and the most useful first message.
        if let value = object["required"] {
            // Draft-03 put `"required": true` inside the property; ignore that form.
            if value.boolValue == nil {
                let names = try stringArray(value, path("required"), "required")
                if !names.isEmpty { checks.append(.required(names)) }
            }
        }
        if object["properties"] != nil || object["patternProperties"] != nil || object["additionalProperties"] != nil {
            var rules = PropertyRules()
            if let value = object["properties"] {
                guard case .object(let properties) = value else {
                    throw error(path("properties"), "properties must be an object")
                }
                for entry in properties {
                    rules.names.append(entry.key)
                    rules.nodes.append(try sub(entry.value, "properties", entry.key))
                }
                if rules.names.count > 8 {
                    rules.lookup = Dictionary(zip(rules.names, rules.names.indices), uniquingKeysWith: { first, _ in first })
                }
            }
            if let value = object["patternProperties"] {
                guard case .object(let patterns) = value else {
                    throw error(path("patternProperties"), "patternProperties must be an object")
                }
                for entry in patterns {
                    let location = path("patternProperties") + "/" + escapePointerToken(entry.key)
                    rules.patterns.append((try regex(entry.key, location), try sub(entry.value, "patternProperties", entry.key)))
                }
            }
            if let value = object["additionalProperties"] {
                let node = try sub(value, "additionalProperties")
                // Decided from the JSON: the node may still be under construction (reference cycles).
                if !isTrivial(value) {
                    rules.additional = node
                    rules.additionalIsFalse = value == .bool(false)
                }
            }
            if !rules.names.isEmpty || !rules.patterns.isEmpty || rules.additional != nil {
                checks.append(.properties(rules))
            }
        }
        var dependencies: [Dependency] = []
        var dependentSchemas: [DependentSchema] = []
        if let value = object["dependentRequired"] {
            guard case .object(let entries) = value else {
                throw error(path("dependentRequired"), "dependentRequired must be an object")
            }
            for entry in entries {
                let location = path("dependentRequired") + "/" + escapePointerToken(entry.key)
                dependencies.append(Dependency(property: entry.key, required: try stringArray(entry.value, location, "each dependentRequired value")))
            }
        }
        if let value = object["dependentSchemas"] {
            guard case .object(let entries) = value else {
                throw error(path("dependentSchemas"), "dependentSchemas must be an object")
            }
            for entry in entries {
                dependentSchemas.append(DependentSchema(property: entry.key, node: try sub(entry.value, "dependentSchemas", entry.key)))
            }
        }
        if let value = object["dependencies"] {  // draft-07: both forms in one keyword
            guard case .object(let entries) = value else {
                throw error(path("dependencies"), "dependencies must be an object")
            }
            for entry in entries {
                let location = path("dependencies") + "/" + escapePointerToken(entry.key)
                if case .array = entry.value {
                    dependencies.append(Dependency(property: entry.key, required: try stringArray(entry.value, location, "each dependencies array")))
                } else {
                    dependentSchemas.append(DependentSchema(property: entry.key, node: try sub(entry.value, "dependencies", entry.key)))
                }
            }
        }
        if !dependencies.isEmpty { checks.append(.dependentRequired(dependencies)) }
        if !dependentSchemas.isEmpty {
            checks.append(.dependentSchemas(dependentSchemas))
            sameValue += dependentSchemas.map(\.node)
        }
        if let value = object["propertyNames"] { checks.append(.propertyNames(try sub(value, "propertyNames"))) }
        if let n = try count("minProperties"), n > 0 { checks.append(.minProperties(n)) }
        if let n = try count("maxProperties") { checks.append(.maxProperties(n)) }

        // Arrays.
        var items = ItemRules()
        var restSchema: JSONValue?
        if let prefix = try schemaArray("prefixItems", allowEmpty: true) {
            items.prefix = prefix
            if let value = object["items"] {
                if case .array = value {
                    throw error(path("items"), "items must be a schema when prefixItems is present")
                }
                items.rest = try sub(value, "items")
                restSchema = value
            }
        } else if let value = object["items"] {
            if case .array = value {
                items.prefix = try schemaArray("items", allowEmpty: true) ?? []
                if let additional = object["additionalItems"] {
                    items.rest = try sub(additional, "additionalItems")
                    items.restKeyword = "additionalItems"
                    restSchema = additional
                }
            } else {
                items.rest = try sub(value, "items")
                restSchema = value
            }
        } else if let value = object["additionalItems"] {
            _ = try sub(value, "additionalItems")  // ignored without array-form items; still checked
        }
        if let restSchema {
            if isTrivial(restSchema) { items.rest = nil }
            items.restIsFalse = restSchema == .bool(false)
        }
        if !items.prefix.isEmpty || items.rest != nil { checks.append(.items(items)) }
        if let value = object["contains"] {
            let node = try sub(value, "contains")
            let min = try count("minContains") ?? 1
            let max = try count("maxContains")
            checks.append(.contains(ContainsRule(node: node, min: min, max: max)))
        }
        if let n = try count("minItems"), n > 0 { checks.append(.minItems(n)) }
        if let n = try count("maxItems") { checks.append(.maxItems(n)) }
        if let value = object["uniqueItems"] {
            guard case .bool(let unique) = value else { throw error(path("uniqueItems"), "uniqueItems must be a boolean") }
            if unique { checks.append(.uniqueItems) }
        }

        // Numbers. Draft-04: boolean exclusiveMinimum/Maximum modify minimum/maximum.
        var exclusiveMinimumFlag = false
        var exclusiveMaximumFlag = false
        if case .bool(let flag) = object["exclusiveMinimum"] {
            exclusiveMinimumFlag = flag
        } else if let limit = try number("exclusiveMinimum") {
            checks.append(.minimum(limit, exclusive: true))
        }
        if case .bool(let flag) = object["exclusiveMaximum"] {
            exclusiveMaximumFlag = flag
        } else if let limit = try number("exclusiveMaximum") {
            checks.append(.maximum(limit, exclusive: true))
        }
        if let limit = try number("minimum") { checks.append(.minimum(limit, exclusive: exclusiveMinimumFlag)) }
        if let limit = try number("maximum") { checks.append(.maximum(limit, exclusive: exclusiveMaximumFlag)) }
        if let divisor = try number("multipleOf") {
            let positive: Bool
            switch divisor {
            case .int(let i): positive = i > 0
            case .double(let d): positive = d > 0
            }
            guard positive else { throw error(path("multipleOf"), "multipleOf must be greater than 0") }
            checks.append(.multipleOf(divisor))
        }

        // Strings.
        if let n = try count("minLength"), n > 0 { checks.append(.minLength(n)) }
        if let n = try count("maxLength") { checks.append(.maxLength(n)) }
        if let value = object["pattern"] {
            guard case .string(let source) = value else { throw error(path("pattern"), "pattern must be a string") }
            checks.append(.pattern(try regex(source, path("pattern"))))
        }
        if let value = object["format"] {
            guard case .string(let name) = value else { throw error(path("format"), "format must be a string") }
            if checkFormats, let format = Format(rawValue: name) { checks.append(.format(format)) }
        }

        // Combinators and conditionals.
        if let children = try schemaArray("allOf") {
            checks.append(.allOf(children))
            sameValue += children
        }
        if let children = try schemaArray("anyOf") {
            checks.append(.anyOf(Combinator(nodes: children, typeUnion: typeUnion("anyOf", object))))
            sameValue += children
        }
        if let children = try schemaArray("oneOf") {
            checks.append(.oneOf(Combinator(nodes: children, typeUnion: typeUnion("oneOf", object))))
            sameValue += children
        }
        if let value = object["not"] {
            let child = try sub(value, "not")
            checks.append(.not(child))
            sameValue.append(child)
        }
        if let value = object["if"] {
            let condition = try sub(value, "if")
            let then = try object["then"].map { try sub($0, "then") }
            let otherwise = try object["else"].map { try sub($0, "else") }
            sameValue.append(condition)
            if let then { sameValue.append(then) }
            if let otherwise { sameValue.append(otherwise) }
            if then != nil || otherwise != nil { checks.append(.conditional(if: condition, then: then, else: otherwise)) }
        } else {
            // Still compile then/else so that errors in them are reported.
            if let value = object["then"] { _ = try sub(value, "then") }
            if let value = object["else"] { _ = try sub(value, "else") }
        }

        // References, resolved now to node indices.
        for keyword in ["$ref", "$dynamicRef", "$recursiveRef"] where object[keyword] != nil {
            let node = try compileReference(keyword, object, at: pointer)
            checks.append(.ref(node, keyword: keyword))
            sameValue.append(node)
        }

        sameValueEdges[index] = sameValue
        return checks
    }

    /// The node a `$ref`-like keyword points to.
    mutating func compileReference(_ keyword: String, _ object: JSONObject, at pointer: String) throws -> Int {
        let location = pointer + "/" + escapePointerToken(keyword)
        guard case .string(let text) = object[keyword] else { throw error(location, "\(keyword) must be a string") }
        let (target, targetPointer) = try resolve(text, from: pointer, at: location)
        return reference(target, at: targetPointer)
    }

    /// `true` or `{}`: allows everything.
    func isTrivial(_ schema: JSONValue) -> Bool {
        switch schema {
        case .bool(true): return true
        case .object(let object): return object.isEmpty
        default: return false
        }
    }

    /// The type names when every branch is exactly `{"type": …}`, for friendlier messages.
    /// (Decided from the JSON: nodes may still be under construction.)
    func typeUnion(_ keyword: String, _ object: JSONObject) -> [String]? {
        guard case .array(let branches) = object[keyword] else { return nil }
        var names: [String] = []
        for branch in branches {
            guard case .object(let schema) = branch, schema.count == 1, let type = schema["type"] else { return nil }
            switch type {
            case .string(let name): if !names.contains(name) { names.append(name) }
            case .array(let list):
                for case .string(let name) in list where !names.contains(name) { names.append(name) }
            default: return nil
            }
        }
        return names
    }

    /// Resolves a reference made at subschema `owner` against the base URI there: `#`,
    /// `#/json/pointer`, `#anchor`, or a URI naming a resource of this document (its root or any
    /// `$id`), with either fragment. Nothing is fetched: other URIs are an error.
    func resolve(_ reference: String, from owner: String, at location: String) throws -> (JSONValue, String) {
        let base = refBases[owner] ?? Self.defaultBase
        let uri: String
        let fragment: String
        if reference.hasPrefix("#") || reference.isEmpty {
            // The common case, without URI parsing (which would also reject unescaped characters).
            (uri, fragment) = (base, String(reference.dropFirst()))
        } else {
            guard let absolute = URL(string: reference, relativeTo: URL(string: base))?.absoluteString else {
                throw error(location, "cannot resolve '\(reference)': not a valid URI reference")
            }
            (uri, fragment) = splitFragment(absolute)
        }
        guard let resource = resources[uri] else {
            throw error(location, "cannot resolve '\(reference)': only references within this schema are supported")
        }
        guard let decoded = fragment.removingPercentEncoding else {
            throw error(location, "cannot resolve '\(reference)': invalid percent-encoding")
        }
        if decoded.isEmpty { return try resolvePointer(resource, reference: reference, at: location) }
        if decoded.hasPrefix("/") { return try resolvePointer(resource + decoded, reference: reference, at: location) }
        guard let anchorPointer = anchors[uri + "#" + decoded] else {
            throw error(location, "cannot resolve '\(reference)': no such anchor")
        }
        return try resolvePointer(anchorPointer, reference: reference, at: location)
    }

    /// Walks a JSON Pointer from the root; returns the value and the pointer in canonical form.
    func resolvePointer(_ pointer: String, reference: String, at location: String) throws -> (JSONValue, String) {
        if pointer.isEmpty { return (root, "") }
        var current = root
        var canonical = ""
        for rawToken in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let token = String(rawToken).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch current {
            case .object(let object):
                guard let next = object[token] else {
                    throw error(location, "cannot resolve '\(reference)': no '\(token)' in the schema")
                }
                current = next
            case .array(let elements):
                guard let i = Int(token), elements.indices.contains(i) else {
                    throw error(location, "cannot resolve '\(reference)': no index '\(token)' in the schema")
                }
                current = elements[i]
            default:
                throw error(location, "cannot resolve '\(reference)': '\(token)' is not inside an object or array")
            }
            canonical += "/" + escapePointerToken(token)
        }
        return (current, canonical)
    }

    /// Throws when subschemas applied to the same value form a cycle: evaluating one would loop.
    func rejectNonDescendingCycles() throws {
        // Iterative DFS; 0 = unvisited, 1 = on the stack, 2 = done.
        var state = [UInt8](repeating: 0, count: nodes.count)
        for start in nodes.indices where state[start] == 0 {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            state[start] = 1
            while let top = stack.last {
                let edges = sameValueEdges[top.node]
                if top.next < edges.count {
                    stack[stack.count - 1].next += 1
                    let target = edges[top.next]
                    if state[target] == 1 {
                        let cycleStart = stack.firstIndex(where: { $0.node == target }) ?? 0
                        let cycle = stack[cycleStart...].map { nodes[$0.node].pointer } + [nodes[target].pointer]
                        throw error(
                            nodes[target].pointer,
                            "reference cycle that never moves into the value: "
                                + cycle.map { $0.isEmpty ? "#" : "#" + $0 }.joined(separator: " -> "))
                    }
                    if state[target] == 0 {
                        state[target] = 1
                        stack.append((target, 0))
                    }
                } else {
                    state[top.node] = 2
                    stack.removeLast()
                }
            }
        }
    }
}
