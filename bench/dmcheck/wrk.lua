-- wrk script of bench/dmcheck: POSTs rotating JSON bodies, one per line of
-- the file given as the first script argument, with the API key given as
-- the second, and prints one machine-readable summary line at the end.
--
--   wrk -t 2 -c 16 -d 15s --latency -s wrk.lua http://127.0.0.1:8080/api/v1/dm/check -- bodies.txt KEY

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local bodies = {}
local headers = {}

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    if #line > 0 then
      bodies[#bodies + 1] = line
    end
  end
  f:close()
  assert(#bodies > 0, "no bodies in " .. args[1])
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. (args[2] or "")
  -- Threads start at different places, so they do not send the same
  -- bodies in step.
  counter = (id or 0) * 7919
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, headers, bodies[(counter % #bodies) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"status_errors":%d,"timeouts":%d,"mean_us":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
