-- skynet.metrics: GET /metrics in the Prometheus text format, scraped with
-- curl and checked with promtool (docs/operations.md "Metrics").
require "skynet"
local H = require "support.helpers"
local C = require "support.console"
local procs = require "support.procs"

local port, metrics

setup(function()
  port = C.free_port()
  local ok
  ok, metrics = os.pload("skynet.metrics", port)
  assert(ok, metrics)
end)

teardown(function()
  metrics:close()
  procs.stop_all()
end)

local function scrape(path, opts)
  return procs.curl(opts, ("http://127.0.0.1:%d%s"):format(port, path or "/metrics"))
end

--- The value of the series `series` (name and labels, exactly as written), or nil.
local function value(text, series)
  for line in text:gmatch("[^\n]+") do
    local name, v = line:match("^(%S+) (%S+)$")
    if name == series then return tonumber(v) end
  end
end

local function promtool(text)
  local file = os.tmpname()
  procs.write_file(file, text)
  local out, status = H.sh("promtool check metrics < " .. file .. " 2>&1; echo \"status=$?\"")
  os.remove(file)
  return out, status
end

describe("skynet.metrics", function()
  it("serves /metrics that promtool accepts", function()
    local r = scrape()
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal("text/plain; version=0.0.4; charset=utf-8", r.headers["content-type"])
    local out = promtool(r.body)
    assert.is_truthy(out:find("status=0", 1, true), out)
    for _, family in ipairs { "skynet_services gauge", "skynet_service_memory_bytes gauge",
      "skynet_service_queue_length gauge", "skynet_service_messages_total counter",
      "skynet_rpc_calls_total counter", "skynet_rpc_call_duration_seconds histogram",
      "skynet_worker_busy_seconds_total counter", "skynet_sockets gauge", "skynet_cluster_links gauge",
      "skynet_timers gauge" } do
      assert.is_truthy(r.body:find("\n# TYPE " .. family .. "\n", 1, true), family)
    end
  end)

  it("uses exactly the labels id, name, result, worker", function()
    local body = scrape().body
    for labels in body:gmatch("\nskynet_[%w_]+{([^}]*)}") do
      for key in labels:gmatch('([%w_]+)="') do
        assert.is_truthy(({ id = 1, name = 1, result = 1, worker = 1, le = 1 })[key], key)
      end
    end
    for _, result in ipairs { "ok", "error", "timeout", "not_found", "cancel" } do
      assert.is_number(value(body, ('skynet_rpc_calls_total{result="%s"}'):format(result)), result)
    end
    assert.is_number(value(body, 'skynet_worker_busy_seconds_total{worker="0"}'))
  end)

  it("has per-service series for live services only, the main script included", function()
    local ok, job = os.pload("helpers.greeter", H.unique("met_live"))
    assert.is_true(ok, job)
    local series = ('skynet_service_memory_bytes{id="%d",name="helpers.greeter"}'):format(job:id())
    local body = scrape().body
    assert.is_true(value(body, series) > 0)
    assert.is_true(value(body, ('skynet_service_memory_bytes{id="%d",name="%s"}'):format(os.id(), os.name())) > 0)
    assert.is_number(value(body, ('skynet_service_queue_length{id="%d",name="skynet.metrics"}'):format(metrics:id())))
    local services = value(body, "skynet_services")
    job:close()
    body = scrape().body
    assert.is_nil(value(body, series))
    assert.are.equal(services - 1, value(body, "skynet_services"))
  end)

  it("moves with load: calls by outcome, their durations, messages, timers, sockets", function()
    local tag = H.unique("met_load")
    local ok, job = os.pload("helpers.greeter", tag)
    assert.is_true(ok, job)
    local hold = H.unique("met_hold")
    rpc.create(hold, function() rpc.responser() end)   -- never answers
    local before = scrape().body
    for _ = 1, 300 do assert(pcall(tag)) end
    pcall(H.unique("met_nobody"))
    local previous = rpc.timeout(30)
    pcall(hold)
    rpc.timeout(previous)
    local timer = os.timer()
    timer:expires(60000, function() end)
    local s = io.socket("tcp")
    assert(s:connect("127.0.0.1", port))
    local after = scrape().body
    local function grew(series) return (value(after, series) or 0) - (value(before, series) or 0) end
    assert.is_true(grew('skynet_rpc_calls_total{result="ok"}') >= 300)
    assert.is_true(grew('skynet_rpc_calls_total{result="not_found"}') >= 1)
    assert.is_true(grew('skynet_rpc_calls_total{result="timeout"}') >= 1)
    assert.is_true(grew("skynet_rpc_call_duration_seconds_count") >= 301)
    assert.is_true(grew("skynet_rpc_call_duration_seconds_sum") > 0)
    assert.is_true(grew(('skynet_service_messages_total{id="%d",name="helpers.greeter"}'):format(job:id())) >= 300)
    assert.is_true(grew("skynet_messages_total") >= 600)
    assert.is_true(grew("skynet_timers") >= 1)
    assert.is_true(grew("skynet_sockets") >= 2, "our socket and its accepted end")
    local busy = 0
    for v in after:gmatch('\nskynet_worker_busy_seconds_total{worker="%d+"} (%S+)') do busy = busy + tonumber(v) end
    assert.is_true(busy > 0)
    s:close()
    timer:cancel()
    rpc.remove(hold)
    job:close()
  end)

  it("answers 404 for other paths, 405 for other methods, 400 for garbage", function()
    assert.are.equal(404, scrape("/").status)
    assert.are.equal(404, scrape("/metricsx").status)
    assert.are.equal(200, scrape("/metrics?x=1").status)
    assert.are.equal(405, scrape("/metrics", "-X POST").status)
    local s = io.socket("tcp")
    assert(s:connect("127.0.0.1", port))
    s:write("\0\1garbage\r\n\r\n")
    local reply = ""
    while true do
      local d = s:read()
      if not d then break end
      reply = reply .. d
    end
    assert.is_truthy(reply:match("^HTTP/1%.1 400 "), reply)
    s:close()
    assert.are.equal(200, scrape().status, "still serving")
  end)

  it("runs from the launcher: skynet skynet.metrics port", function()
    local p = C.free_port()
    local proc = procs.skynet("skynet.metrics " .. p, 60)
    procs.wait_output(proc, "listening on 127%.0%.0%.1:" .. p)
    local r = procs.curl(nil, ("http://127.0.0.1:%d/metrics"):format(p))
    assert.are.equal(200, r.status, r.raw)
    assert.is_true(value(r.body, 'skynet_service_memory_bytes{id="1",name="skynet.metrics"}') > 0)
    assert.is_truthy(promtool(r.body):find("status=0", 1, true))
    procs.stop(proc)
  end)
end)
