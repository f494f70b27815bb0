-- wrk script: every request POSTs one CinC record (.hea + .mat) as multipart/form-data; prints one RESULT line.
--   wrk -c N -d 10s -s bench/serve/post_record.lua http://127.0.0.1:8080/v1/classify -- RECORD
-- RECORD is a path without extension: RECORD.hea and RECORD.mat are sent as parts named `file`.
local boundary = "ecgbench-3f8a1c9e5d7b"

local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local s = f:read("*a")
  f:close()
  return s
end

function init(args)
  local record = assert(args[1], "usage: ... -- RECORD")
  local name = record:match("([^/]+)$")
  local parts = {}
  for _, ext in ipairs({"hea", "mat"}) do
    parts[#parts + 1] = "--" .. boundary .. "\r\n" ..
      'Content-Disposition: form-data; name="file"; filename="' .. name .. "." .. ext .. '"\r\n' ..
      "Content-Type: application/octet-stream\r\n\r\n" .. slurp(record .. "." .. ext) .. "\r\n"
  end
  wrk.method = "POST"
  wrk.body = table.concat(parts) .. "--" .. boundary .. "--\r\n"
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
end

-- Latencies are in microseconds; "failed" counts socket errors, timeouts and non-2xx/3xx answers.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d rps=%.2f p50_ms=%.2f p99_ms=%.2f failed=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, e.connect + e.read + e.write + e.status + e.timeout))
end
