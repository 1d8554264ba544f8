-- wrk: request the addresses in the file named by PATHS (one per line, as `localoffer bench
-- search --keep DIR` writes them), each connection starting at its own place in the list, and
-- print the latency percentiles at the end.
--   PATHS=DIR/http-outcome.txt wrk -t2 -c32 -d20s -s scripts/wrk-paths.lua http://127.0.0.1:8080
local paths = {}
local file = assert(io.open(os.getenv("PATHS") or "paths.txt"), "PATHS names no readable file")
for line in file:lines() do
  if #line > 0 then paths[#paths + 1] = line end
end
file:close()
assert(#paths > 0, "no addresses to request")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 7919)
end

local i = 0
function request()
  i = i + 1
  return wrk.format("GET", paths[(offset + i) % #paths + 1])
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("requests/s %.0f  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  non-2xx or errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, errors))
end
