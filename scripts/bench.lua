-- wrk script used by scripts/bench: stateless MCP 2026-07-28 requests against /mcp.
--   wrk ... -s scripts/bench.lua http://127.0.0.1:PORT/mcp -- call    (tools/call echo.echo)
--   wrk ... -s scripts/bench.lua http://127.0.0.1:PORT/mcp -- list    (tools/list)
-- Counts answers that are not HTTP 200, and 200 answers that carry no JSON-RPC result or an isError
-- result, and prints one machine-readable BENCH line from done().

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local mode = args[1] or "call"
  non200 = 0
  rpc_errors = 0
  answered = 0
  local meta = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    .. '"io.modelcontextprotocol/clientCapabilities":{},'
    .. '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1.0.0"}}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = "2026-07-28",
  }
  local body
  if mode == "list" then
    headers["Mcp-Method"] = "tools/list"
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{' .. meta .. '}}'
  elseif mode == "call" then
    headers["Mcp-Method"] = "tools/call"
    headers["Mcp-Name"] = "echo.echo"
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo.echo",'
      .. '"arguments":{"message":"hello from wrk"},' .. meta .. '}}'
  else
    error("unknown mode " .. mode .. " (use call or list)")
  end
  req = wrk.format("POST", nil, headers, body)
end

function request()
  return req
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then
    non200 = non200 + 1
  elseif not string.find(body, '"result"', 1, true) or string.find(body, '"isError":true', 1, true) then
    rpc_errors = rpc_errors + 1
  end
end

function done(summary, latency, requests)
  local n, e, a = 0, 0, 0
  for _, t in ipairs(threads) do
    n = n + (t:get("non200") or 0)
    e = e + (t:get("rpc_errors") or 0)
    a = a + (t:get("answered") or 0)
  end
  local secs = summary.duration / 1e6
  local sock = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "BENCH requests=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non200=%d rpc_errors=%d socket_errors=%d answered=%d\n",
    summary.requests, summary.requests / secs, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, n, e, sock, a))
end
