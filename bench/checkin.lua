-- wrk: POST /api/v1/checkins with a distinct credential per request (every one a real,
-- durable write). args: FILE START T — the credentials file (one per line) and the first
-- line to use, and T, the number of wrk threads; thread k takes lines START+k,
-- START+k+T, ...
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  local file, start = args[1], tonumber(args[2] or "1")
  creds = {}
  for line in io.lines(file) do
    creds[#creds + 1] = line
  end
  next_index = start + id
  stride = tonumber(args[3] or "2")
  errors = 0
  used = 0
end

function request()
  local credential = creds[next_index]
  if credential == nil then
    error("ran out of fresh credentials at line " .. next_index)
  end
  next_index = next_index + stride
  used = used + 1
  return wrk.format("POST", "/api/v1/checkins", {["Content-Type"] = "application/json"},
    '{"credential":"' .. credential .. '"}')
end

function response(status, headers, body)
  if status ~= 201 then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local errors_total, used_total = 0, 0
  for _, thread in ipairs(threads) do
    errors_total = errors_total + thread:get("errors")
    used_total = used_total + thread:get("used")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non_201": %d, "used": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    errors_total, used_total, latency:percentile(50), latency:percentile(99), latency.max))
end
