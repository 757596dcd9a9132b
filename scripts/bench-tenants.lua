-- wrk script used by scripts/bench-tenants: stateless tools/call echo.echo, each request with the
-- next API key of a list (round robin), so every request may land on a different tenant.
--   wrk ... -s scripts/bench-tenants.lua URL -- KEYFILE
-- KEYFILE holds one key per line. Prints one BENCH line like scripts/bench.lua.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  rpc_errors = 0
  keys = {}
  for line in io.lines(args[1]) do table.insert(keys, line) end
  nextKey = 1
  local meta = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    .. '"io.modelcontextprotocol/clientCapabilities":{},'
    .. '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1.0.0"}}'
  body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo.echo",'
    .. '"arguments":{"message":"hello from wrk"},' .. meta .. '}}'
  -- One prepared request per key: building them in request() would measure Lua, not the host.
  reqs = {}
  for i, key in ipairs(keys) do
    reqs[i] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json, text/event-stream",
      ["MCP-Protocol-Version"] = "2026-07-28",
      ["Mcp-Method"] = "tools/call",
      ["Mcp-Name"] = "echo.echo",
      ["x-api-key"] = key,
    }, body)
  end
end

function request()
  local r = reqs[nextKey]
  nextKey = nextKey % #reqs + 1
  return r
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  elseif not string.find(body, '"result"', 1, true) or string.find(body, '"isError":true', 1, true) then
    rpc_errors = rpc_errors + 1
  end
end

function done(summary, latency, requests)
  local n, e = 0, 0
  for _, t in ipairs(threads) do
    n = n + (t:get("non200") or 0)
    e = e + (t:get("rpc_errors") or 0)
  end
  local secs = summary.duration / 1e6
  io.write(string.format("BENCH requests=%d rps=%.1f p50_us=%d p99_us=%d non200=%d rpc_errors=%d\n",
    summary.requests, summary.requests / secs, latency:percentile(50), latency:percentile(99), n, e))
end
