-- wrk script of the comparison. With a headers file (BENCH_HEADERS, lines "<info> <hmac>",
-- every line a distinct signed trace), each request carries the next pair, starting at the
-- line given as the script's first argument (so warm-up and window never reuse one).
-- done() prints one JSON line: requests, duration, errors, latency p50/p99 (µs).
local pairs_ = {}
local n, i = 0, 0

function init(args)
  local path = os.getenv("BENCH_HEADERS")
  if path and path ~= "" then
    for line in io.lines(path) do
      local info, hmac = line:match("^(%S+) (%S+)$")
      if info then
        n = n + 1
        pairs_[n] = { info, hmac }
      end
    end
    i = tonumber(args[1] or "0") % n
    -- Defined only here: without headers wrk keeps its static request (no Lua per request).
    request = function()
      i = i + 1
      if i > n then i = 1 end
      local p = pairs_[i]
      return wrk.format(nil, nil, { ["X-Trace-Info"] = p[1], ["X-Trace-HMAC"] = p[2] })
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,"p50":%d,"p99":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
