-- Replays prepared requests with wrk; used by bench/run.
--
-- WRK_REQUESTS  file, one request per line: METHOD<TAB>PATH<TAB>BODY<TAB>Header: value...
--               (BODY "-" for none)
-- WRK_MODE      "cycle": every thread loops over all lines, each from its own offset;
--               "once": the lines are split between threads, each line sent at most
--               once (transitions carry an If-Match that is only good once)
-- WRK_IDEMPOTENCY  "1": add a unique Idempotency-Key to every request
-- WRK_THREADS   the -t value (init() runs before later threads exist)
-- WRK_RUN_ID    makes the Idempotency-Keys of this run unique
-- WRK_OUT       where done() writes the JSON summary

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("thread_id", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

local function split(line, sep)
   local fields = {}
   for field in (line .. sep):gmatch("(.-)" .. sep) do
      table.insert(fields, field)
   end
   return fields
end

function init(args)
   requests = {}
   codes = {}
   sent = 0
   local mode = os.getenv("WRK_MODE") or "cycle"
   local idempotency = os.getenv("WRK_IDEMPOTENCY") == "1"
   run_id = os.getenv("WRK_RUN_ID") or tostring(os.time())
   local lines = {}
   for line in io.lines(os.getenv("WRK_REQUESTS")) do
      if line ~= "" then table.insert(lines, line) end
   end
   local total = tonumber(os.getenv("WRK_THREADS") or "1")
   for index, line in ipairs(lines) do
      if mode == "cycle" or ((index - 1) % total) == thread_id then
         local f = split(line, "\t")
         local headers = {}
         for i = 4, #f do
            local name, value = f[i]:match("^([^:]+):%s*(.*)$")
            if name then headers[name] = value end
         end
         local body = f[3]
         if body == "-" then body = nil end
         table.insert(requests, {method = f[1], path = f[2], body = body, headers = headers})
      end
   end
   idempotent = idempotency
   position = 0
   if mode == "cycle" and #requests > 0 then
      position = (thread_id * 7919) % #requests  -- threads start at different lines
   end
end

function request()
   position = position + 1
   if position > #requests then position = 1 end
   local r = requests[position]
   sent = sent + 1
   if idempotent then
      r.headers["Idempotency-Key"] = run_id .. "-" .. thread_id .. "-" .. sent
   end
   return wrk.format(r.method, r.path, r.headers, r.body)
end

function response(status, headers, body)
   local key = tostring(status)
   codes[key] = (codes[key] or 0) + 1
end

function done(summary, latency, requests)
   local merged = {}
   for _, thread in ipairs(threads) do
      local c = thread:get("codes")
      if c then
         for k, v in pairs(c) do merged[k] = (merged[k] or 0) + v end
      end
   end
   local parts = {}
   for k, v in pairs(merged) do table.insert(parts, string.format('"%s": %d', k, v)) end
   local e = summary.errors
   local out = io.open(os.getenv("WRK_OUT"), "w")
   out:write(string.format(
      '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "mean": %.1f, ' ..
      '"max": %d, "stdev": %.1f}, "status_codes": {%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency.mean, latency.max, latency.stdev,
      table.concat(parts, ", ")))
   out:close()
end
