/// Shell-style patterns for `list_files`: `*` (any run of characters except `/`), `?` (one
/// character except `/`), `[abc]` / `[a-z]` / `[!abc]` (one character of a set), and `**` as a
/// whole segment (any number of segments, including none). A pattern without `/` matches the
/// file name at any depth (`*.csv`); one with `/` matches the whole key (`csv/*.csv`,
/// `**/*.parquet`).
struct Glob: Sendable {
    let pattern: String
    private let segments: [[Character]]
    private let nameOnly: Bool

    init(_ pattern: String) throws {
        guard !pattern.isEmpty else { throw GlobError(message: "argument 'glob' is empty") }
        self.pattern = pattern
        nameOnly = !pattern.contains("/")
        segments = pattern.split(separator: "/", omittingEmptySubsequences: false).map { Array($0) }
        for segment in segments where segment.contains("[") {
            var open = false
            for c in segment {
                if c == "[" { open = true } else if c == "]" { open = false }
            }
            if open { throw GlobError(message: "argument 'glob': unclosed '[' in '\(pattern)'") }
        }
    }

    struct GlobError: Error {
        var message: String
    }

    func matches(_ key: String) -> Bool {
        if nameOnly {
            let name = key.split(separator: "/", omittingEmptySubsequences: false).last.map { Array($0) } ?? []
            return Self.matchSegment(segments[0], name)
        }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false).map { Array($0) }
        return Self.matchPath(segments[...], parts[...])
    }

    private static func matchPath(_ pattern: ArraySlice<[Character]>, _ parts: ArraySlice<[Character]>) -> Bool {
        guard let first = pattern.first else { return parts.isEmpty }
        if first == ["*", "*"] {
            // `**` swallows zero or more segments.
            var rest = parts
            while true {
                if matchPath(pattern.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        }
        guard let part = parts.first, matchSegment(first, part) else { return false }
        return matchPath(pattern.dropFirst(), parts.dropFirst())
    }

    /// Iterative wildcard matching with backtracking to the last `*` (linear in practice).
    static func matchSegment(_ p: [Character], _ s: [Character]) -> Bool {
        var pi = 0
        var si = 0
        var starP = -1
        var starS = 0
        while si < s.count {
            if pi < p.count, p[pi] == "*" {
                starP = pi
                starS = si
                pi += 1
                continue
            }
            if pi < p.count, let (matched, next) = matchOne(p, pi, s[si]), matched {
                pi = next
                si += 1
                continue
            }
            guard starP >= 0 else { return false }
            pi = starP + 1
            starS += 1
            si = starS
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Whether pattern element at `i` matches `c`, and the index after that element.
    private static func matchOne(_ p: [Character], _ i: Int, _ c: Character) -> (Bool, Int)? {
        switch p[i] {
        case "?":
            return (true, i + 1)
        case "[":
            var j = i + 1
            var negate = false
            if j < p.count, p[j] == "!" || p[j] == "^" {
                negate = true
                j += 1
            }
            var found = false
            var first = true
            while j < p.count, p[j] != "]" || first {
                first = false
                if j + 2 < p.count, p[j + 1] == "-", p[j + 2] != "]" {
                    if p[j] <= c && c <= p[j + 2] { found = true }
                    j += 3
                } else {
                    if p[j] == c { found = true }
                    j += 1
                }
            }
            return (found != negate, j + 1)
        default:
            return (p[i] == c, i + 1)
        }
    }
}
