-- os.monitor(id, fn): fn(id, how [, msg]) once service id has ended
-- (docs/API.md §4, docs/operations.md "Service monitors").
require "skynet"
local H = require "support.helpers"
local introspect = require "skynet.debug"

--- Starts helpers.monitored in `mode`; returns its job.
local function start(mode, tag)
  local ok, job = os.pload("helpers.monitored", mode, tag)
  assert.is_true(ok, job)
  return job
end

--- Monitors `id`; returns the list of calls fn got, each packed.
local function watch(id)
  local calls = {}
  os.monitor(id, function(...) calls[#calls + 1] = table.pack(...) end)
  return calls
end

local function heard(calls)
  assert.is_true(H.wait_until(function() return #calls > 0 end, 5000), "the monitor was called within 5 s")
  return calls[1]
end

describe("os.monitor", function()
  it("'exit' when main returns", function()
    local job = start("exit")
    local got = heard(watch(job:id()))
    assert.are.same({ n = 2, job:id(), "exit" }, got)
  end)

  it("'error' with the message when main raises", function()
    local job = start("raise")
    local got = heard(watch(job:id()))
    assert.are.same({ n = 3, job:id(), "error", "boom" }, got)
  end)

  it("'stopped' for os.stop, job:close and a parent that ends", function()
    local self_stopped = start("stop")
    local closed = start("stay")
    local tag = H.unique("mon_parent")
    local parent = start("parent_of", tag)
    local ok, child = pcall(tag)
    assert.is_true(ok, child)
    local a, b, c = watch(self_stopped:id()), watch(closed:id()), watch(child)
    closed:close()
    parent:close()
    assert.are.equal("stopped", heard(a)[2])
    assert.are.equal("stopped", heard(b)[2])
    assert.are.same({ n = 2, child, "stopped" }, heard(c))
  end)

  it("'killed' when an operator kills the service", function()
    local job = start("stay")
    local calls = watch(job:id())
    assert.is_true(introspect.kill(job:id()))
    assert.are.same({ n = 2, job:id(), "killed" }, heard(calls))
    assert.are.equal("dead", job:state())
  end)

  it("'dead' for an ended or unknown id, on a later turn, never from inside os.monitor", function()
    local job = start("exit")
    job:close()
    for _, id in ipairs { job:id(), 0xFFFF, 0, -3, 1 << 40 } do
      local calls = watch(id)
      assert.are.equal(0, #calls, "not from inside os.monitor")
      assert.are.same({ n = 2, id, "dead" }, heard(calls))
    end
  end)

  it("calls every monitor of a service once, and the callback may block", function()
    local echo = H.unique("mon_echo")
    rpc.create(echo, function(x) return x end)
    local job = start("stay")
    local first, second = watch(job:id()), {}
    os.monitor(job:id(), function(id, how)
      local ok, back = pcall(echo, how)   -- a blocking call inside the callback
      second[#second + 1] = { id, ok, back }
    end)
    job:close()
    heard(first)
    assert.is_true(H.wait_until(function() return #second > 0 end, 5000))
    assert.are.same({ { job:id(), true, "stopped" } }, second)
    os.wait(50)
    assert.are.equal(1, #first)
    assert.are.equal(1, #second)
    rpc.remove(echo)
  end)

  it("runs the callback on the watcher's own service", function()
    local job = start("stay")
    local tag = H.unique("mon_watcher")
    local ok, watcher = os.pload("helpers.agent", tag)
    assert.is_true(ok, watcher)
    -- The watcher records where its callback ran; we ask it afterwards.
    assert.is_true((pcall(tag, ("HEARD = {} os.monitor(%d, function(id, how) HEARD = { os.id(), how } end)"):format(job:id()))))
    job:close()
    local got
    assert.is_true(H.wait_until(function()
      local _, v = pcall(tag, "return HEARD[1] and (HEARD[1] .. ' ' .. HEARD[2])")
      got = v
      return got
    end, 5000))
    assert.are.equal(watcher:id() .. " stopped", got)
    watcher:close()
  end)

  it("raises on bad arguments", function()
    H.raises(function() os.monitor("x", function() end) end, "bad argument #1 to 'monitor'")
    H.raises(function() os.monitor(1) end, "bad argument #2 to 'monitor'")
  end)
end)
