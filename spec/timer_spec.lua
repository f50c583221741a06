-- os.timer (docs/API.md §10), in the main service.
require "skynet"
local H = require "support.helpers"
local now = function() return os.steady_clock("us") end

describe("os.timer", function()
  it("expires returns true and fires once, never early", function()
    local t = os.timer()
    local fired, at = 0, nil
    local t0 = now()
    assert.is_true(t:expires(30, function() fired = fired + 1; at = now() end))
    assert.are.equal(0, fired)
    assert.is_true(H.wait_until(function() return fired > 0 end, 2000))
    assert.is_true(at - t0 >= 30000, "fired after " .. (at - t0) .. " us")
    os.wait(80)
    assert.are.equal(1, fired)
  end)

  it("expires(0) fires on the next turn, not inside expires", function()
    local t = os.timer()
    local fired = false
    t:expires(0, function() fired = true end)
    assert.is_false(fired)
    assert.is_true(H.wait_until(function() return fired end, 1000))
  end)

  it("cancel stops a pending callback; cancel is idempotent", function()
    local t = os.timer()
    local fired = false
    t:expires(20, function() fired = true end)
    t:cancel()
    t:cancel()
    os.wait(60)
    assert.is_false(fired)
    local t2 = os.timer()
    t2:cancel() -- never armed
  end)

  it("re-arming cancels the pending callback", function()
    local t = os.timer()
    local log = {}
    t:expires(20, function() log[#log + 1] = "first" end)
    t:expires(40, function() log[#log + 1] = "second" end)
    os.wait(100)
    assert.are.same({ "second" }, log)
  end)

  it("returning true re-arms for the same ms", function()
    local t = os.timer()
    local times = {}
    local t0 = now()
    t:expires(15, function()
      times[#times + 1] = now()
      return #times < 3
    end)
    assert.is_true(H.wait_until(function() return #times >= 3 end, 2000))
    os.wait(60)
    assert.are.equal(3, #times)
    assert.is_true(times[3] - t0 >= 45000, "3 periods in " .. (times[3] - t0) .. " us")
  end)

  it("returning a positive number re-arms for that many ms", function()
    local t = os.timer()
    local times = {}
    t:expires(5, function()
      times[#times + 1] = now()
      if #times == 1 then return 40 end
    end)
    assert.is_true(H.wait_until(function() return #times >= 2 end, 2000))
    assert.is_true(times[2] - times[1] >= 40000, (times[2] - times[1]) .. " us")
    os.wait(80)
    assert.are.equal(2, #times)
  end)

  for _, r in ipairs({ { "nil", nil }, { "false", false }, { "0", 0 }, { "-5", -5 }, { "a string", "10" } }) do
    it("returning " .. r[1] .. " ends it", function()
      local t = os.timer()
      local n = 0
      t:expires(5, function() n = n + 1; return r[2] end)
      os.wait(80)
      assert.are.equal(1, n)
    end)
  end

  it("an error in the callback is logged and stops the timer", function()
    local t = os.timer()
    local n = 0
    t:expires(5, function() n = n + 1; error("timer error on purpose") end)
    os.wait(80)
    assert.are.equal(1, n)
  end)

  it("re-armed inside its own callback it stays armed whatever it returns", function()
    local t = os.timer()
    local log = {}
    t:expires(5, function()
      log[#log + 1] = "a"
      t:expires(20, function() log[#log + 1] = "b" end)
      return false
    end)
    assert.is_true(H.wait_until(function() return #log == 2 end, 2000))
    assert.are.same({ "a", "b" }, log)

    local t2 = os.timer()
    local log2 = {}
    t2:expires(5, function()
      log2[#log2 + 1] = 1
      if #log2 == 1 then
        t2:expires(20, function() log2[#log2 + 1] = 2 end)
        return true -- ignored: the explicit re-arm wins
      end
    end)
    os.wait(120)
    assert.are.same({ 1, 2 }, log2)
  end)

  it("cancel inside its own callback ends a repeating timer", function()
    local t = os.timer()
    local n = 0
    t:expires(5, function() n = n + 1; t:cancel(); return true end)
    os.wait(80)
    assert.are.equal(1, n)
  end)

  it("fires by due time, equal due times in arm order", function()
    local log = {}
    local timers = {}
    local function arm(ms, tag)
      local t = os.timer()
      timers[#timers + 1] = t
      t:expires(ms, function() log[#log + 1] = tag end)
    end
    arm(60, "c")
    arm(20, "a1")
    arm(40, "b")
    arm(20, "a2")
    arm(20, "a3")
    arm(0, "z")
    assert.is_true(H.wait_until(function() return #log == 6 end, 2000))
    assert.are.same({ "z", "a1", "a2", "a3", "b", "c" }, log)
  end)

  it("many timers with equal due time fire in arm order", function()
    local log = {}
    local keep = {}
    for i = 1, 100 do
      local t = os.timer()
      keep[i] = t
      t:expires(10, function() log[#log + 1] = i end)
    end
    assert.is_true(H.wait_until(function() return #log == 100 end, 2000))
    for i = 1, 100 do assert.are.equal(i, log[i]) end
  end)

  it("a dropped timer object still fires", function()
    local fired = false
    do
      local t = os.timer()
      t:expires(30, function() fired = true end)
    end
    collectgarbage(); collectgarbage()
    assert.is_true(H.wait_until(function() return fired end, 2000))
  end)

  it("a dropped repeating timer keeps repeating until its callback says stop", function()
    local n = 0
    do
      os.timer():expires(5, function() n = n + 1; return n < 3 end)
    end
    collectgarbage(); collectgarbage()
    assert.is_true(H.wait_until(function() return n == 3 end, 2000))
    os.wait(40)
    assert.are.equal(3, n)
  end)

  it("the callback may block (os.wait inside)", function()
    local t = os.timer()
    local done = false
    t:expires(1, function() os.wait(10); done = true end)
    assert.is_true(H.wait_until(function() return done end, 2000))
  end)

  it("expires rejects bad arguments", function()
    local t = os.timer()
    assert.has_error(function() t:expires(-1, function() end) end)
    assert.has_error(function() t:expires(0 / 0, function() end) end)
    assert.has_error(function() t:expires(math.huge, function() end) end)
    H.raises(function() t:expires("x", function() end) end, "bad argument")
    H.raises(function() t:expires(10) end, "bad argument")
    H.raises(function() t:expires(10, "f") end, "bad argument")
    H.raises(function() t:expires() end, "bad argument")
  end)

  it("a huge but finite ms arms (never fires here) or raises 'bad argument', no panic", function()
    for _, ms in ipairs({ 1e300, 2^63, 1e17 }) do
      local t = os.timer()
      local fired = false
      local ok, err = pcall(t.expires, t, ms, function() fired = true end)
      if ok then
        assert.is_true(err)
      else
        assert.truthy(tostring(err):find("bad argument", 1, true), tostring(err))
      end
      t:cancel()
      assert.is_false(fired)
    end
  end)

  it("timers in a service fire in that service", function()
    local tag = H.unique("timer_svc")
    local ok, job = os.pload("helpers.agent", tag)
    assert.is_true(ok, job)
    local ok2, id, fired_in, dt = pcall(tag, [[
      local t0 = os.steady_clock("us")
      local id, at
      local t = os.timer()
      t:expires(25, function() id = os.id(); at = os.steady_clock("us") end)
      while not id do os.wait(5) end
      return os.id(), id, at - t0
    ]])
    assert.is_true(ok2, id)
    assert.are.equal(id, fired_in)
    assert.is_true(dt >= 25000, dt)
    job:close()
  end)
end)
