import MCPPluginSDK

/// When a TiFlux request is sent again, and after how long.
///
/// * 429: TiFlux refused the request before doing anything (120 requests/min per user), so it is
///   resent whatever the method, after `Retry-After` (seconds or an HTTP date), else after
///   `RateLimit-Reset` (the datetime TiFlux documents on every response), else after a backoff.
/// * 5xx and transport failures: resent only for requests that are safe to repeat (reads, and
///   `PUT /tickets/{n}` which sets the same fields again). Creating a ticket or an answer, and
///   the close/cancel/reopen transitions, are not: the server may have acted before failing, and
///   a second attempt would duplicate the answer or report "already closed" for a success.
/// Every wait must end before the tool call's deadline; otherwise the call fails at once with
/// the reason instead of sleeping past it.
struct RetryPolicy: Sendable {
    enum Safety: Sendable {
        /// GET and idempotent PUT: 429, 5xx and transport failures are retried.
        case repeatable
        /// Non-idempotent writes: only 429 is retried.
        case onlyRateLimited
    }

    /// Retries after the first attempt.
    var maxRetries: Int
    /// Backoff when the server gives no hint: base × 2^retry, capped, with up to 25% jitter taken
    /// off so that clients sharing a rate limit do not retry in lockstep.
    var baseDelayMilliseconds: Int64 = 500
    var maxDelayMilliseconds: Int64 = 8_000

    enum Decision: Equatable {
        case retry(afterMilliseconds: Int64)
        case stop
    }

    /// What to do after `attempt` (0-based) answered `status` (nil: no response arrived).
    func decide(
        status: Int?, headers: HTTPHeaders, attempt: Int, safety: Safety, nowMilliseconds: Int64
    ) -> Decision {
        guard attempt < maxRetries else { return .stop }
        switch status {
        case 429?:
            return .retry(afterMilliseconds: serverDelay(headers, rateLimited: true, nowMilliseconds: nowMilliseconds) ?? backoff(attempt))
        case let status? where (500...599).contains(status) && safety == .repeatable:
            // A 503 may carry Retry-After too (RFC 9110 §10.2.3); RateLimit-Reset is only the end
            // of the rate window, which says nothing about when the server recovers.
            return .retry(afterMilliseconds: serverDelay(headers, rateLimited: false, nowMilliseconds: nowMilliseconds) ?? backoff(attempt))
        case nil where safety == .repeatable:
            return .retry(afterMilliseconds: backoff(attempt))
        default:
            return .stop
        }
    }

    /// The wait the server asked for, in milliseconds (≥ 0), or nil when it named none.
    /// `RateLimit-Reset` counts only for a 429 (`rateLimited`).
    func serverDelay(_ headers: HTTPHeaders, rateLimited: Bool, nowMilliseconds: Int64) -> Int64? {
        if let value = headers["retry-after"]?.trimmedSpaces {
            if let seconds = Int64(value), seconds >= 0 { return seconds * 1000 }
            if let date = Timestamps.parseHTTPDate(value) { return max(0, date * 1000 - nowMilliseconds) }
        }
        if rateLimited, let reset = headers["ratelimit-reset"]?.trimmedSpaces {
            if let date = Timestamps.parseISO8601(reset) { return max(0, date * 1000 - nowMilliseconds) }
        }
        return nil
    }

    func backoff(_ attempt: Int) -> Int64 {
        let full = min(maxDelayMilliseconds, baseDelayMilliseconds << Int64(min(attempt, 16)))
        return full - Int64.random(in: 0...(full / 4))
    }
}

extension String {
    var trimmedSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
