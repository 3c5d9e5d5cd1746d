-- wrk script for bench/load.py. The configuration (a Lua file that returns a table) is named by
-- SPAR_BENCH_CONFIG; results go to the folder named by SPAR_BENCH_OUT: one line per response in
-- thread-<n>.txt ("<endpoint> <status> <latency ms>", or "<endpoint> lost"), and summary.txt.
--
-- mode "mix": paced clients. Each wrk thread has one connection and a few clients (a poller, a
-- note-taker, a marker or a bare-view client); before each request, delay() waits until the
-- earliest client is due. With one request in flight per thread, each response pairs with its
-- request, so latency is tagged by endpoint and measured from the time the request was *due*:
-- a request that had to wait for its connection counts that wait (no coordinated omission).
--
-- mode "saturate": no pacing; requests cycle through the clients as fast as the connections
-- allow, and wrk's own latency histogram is reported.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } spar_timespec;
int clock_gettime(int clock_id, spar_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("spar_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local config = dofile(os.getenv("SPAR_BENCH_CONFIG"))

local function urlencode(text)
  return (text:gsub("[^%w%-%._~]", function(char)
    return string.format("%%%02X", string.byte(char))
  end))
end

-- Main state: number the threads. Threads report through files, one each: wrk's thread:get()
-- cannot copy nested tables back to the main state.
local thread_count = 0

function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end

-- Thread state from here to done().
local mine, cursor, pending, inflight, started, out

function init(args)
  mine, cursor, started = {}, thread_id, now_ms()
  out = assert(io.open(os.getenv("SPAR_BENCH_OUT") .. "/thread-" .. thread_id .. ".txt", "w"))
  out:setvbuf("full") -- flushed when wrk exits
  for i, client in ipairs(config.clients) do
    -- Paced clients are shared out among the threads; saturating threads all cycle through all.
    if config.mode ~= "mix" or (i - 1) % config.threads == thread_id then
      client.due = started + client.phase * client.interval_ms
      client.saves = 0
      table.insert(mine, client)
    end
  end
end

local function counts(due)
  return due >= started + config.warmup_ms
end
local function earliest()
  local best = mine[1]
  for _, client in ipairs(mine) do
    if client.due < best.due then
      best = client
    end
  end
  return best
end

local function build(client)
  local headers = { Cookie = client.cookie }
  if client.kind == "poll" then
    headers["HX-Request"] = "true"
    return wrk.format("GET", client.path .. "?v=" .. client.version, headers)
  elseif client.kind == "notes" then
    client.saves = client.saves + 1
    local sentence = config.sentences[(client.saves + client.offset) % #config.sentences + 1]
    local text = client.text .. sentence .. "\n"
    if #text > config.notes_limit then
      text = sentence .. "\n" -- a new page of notes rather than an ever longer one
    end
    client.sending = text
    headers["Accept"] = "application/json"
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["X-CSRFToken"] = client.csrf
    local body = "text=" .. urlencode(text) .. "&base_version=" .. client.base
    return wrk.format("POST", client.path, headers, body)
  elseif client.kind == "mark" then
    client.saves = client.saves + 1
    local item = client.items[client.saves % #client.items + 1]
    local mark = config.marks[client.saves % #config.marks + 1]
    headers["HX-Request"] = "true"
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["X-CSRFToken"] = client.csrf
    return wrk.format("POST", client.path, headers, "item=" .. urlencode(item) .. "&mark=" .. mark)
  end
  return wrk.format("GET", client.path, headers)
end

if config.mode == "mix" then
  function delay()
    pending = earliest()
    local wait = pending.due - now_ms()
    return wait > 0 and math.floor(wait) or 0
  end

  function request()
    if inflight ~= nil and counts(inflight.due) then
      -- The previous request never got a response (a socket error): count it against its kind.
      out:write(inflight.client.kind, " lost\n")
    end
    local client = pending or earliest()
    pending = nil
    inflight = { client = client, due = client.due }
    client.due = client.due + client.interval_ms
    return build(client)
  end

  function response(status, headers, body)
    local sent = inflight
    inflight = nil
    if sent == nil then
      return
    end
    local client = sent.client
    if counts(sent.due) then
      out:write(string.format("%s %d %.3f\n", client.kind, status, now_ms() - sent.due))
    end
    if client.kind == "poll" and status == 200 then
      local version = body:match('id="poller".-data%-version="(%d+)"')
      if version then
        client.version = version
      end
    elseif client.kind == "notes" then
      local version = body:match('"version": *(%d+)') or body:match('"server_version": *(%d+)')
      if version then
        client.base = version
      end
      if status == 200 then
        client.text = client.sending
      end
    end
  end
else
  function request()
    cursor = cursor % #mine + 1
    return build(mine[cursor])
  end

  function response(status, headers, body)
    out:write(mine[1].kind, " ", status, "\n")
  end
end

function done(summary, latency, requests)
  local file = assert(io.open(os.getenv("SPAR_BENCH_OUT") .. "/summary.txt", "w"))
  local e = summary.errors
  file:write(string.format(
    "%d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout
  ))
  file:write(string.format(
    "%.3f %.3f %.3f %.3f\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000
  ))
  file:close()
end
