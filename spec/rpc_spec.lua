-- rpc and the rpc forms of pcall (docs/API.md §3.2, §5).
require "skynet"
local H = require "support.helpers"

local function start_agent(code, ...)
  local tag = H.unique("rpc_agent")
  local ok, job = os.pload("helpers.agent", tag, code, ...)
  assert(ok, job)
  return tag, job
end

-- Waits for an async callback's results (bounded).
local function collector()
  local got
  local function cb(...) got = table.pack(...) end
  local function wait(ms)
    assert(H.wait_until(function() return got ~= nil end, ms or 3000), "callback not called")
    return got
  end
  return cb, wait
end

describe("rpc.create / rpc.remove", function()
  it("create returns true; twice gives false, 'already registered'", function()
    local name = H.unique("rc")
    assert.is_true(rpc.create(name, function() end))
    local ok, msg = rpc.create(name, function() end)
    assert.is_false(ok)
    assert.are.equal("already registered", msg)
    assert.is_true(rpc.remove(name))
  end)

  it("remove returns true, then false; the name is gone", function()
    local name = H.unique("rr")
    rpc.create(name, function() return 1 end)
    assert.are.same({ true, 1 }, { pcall(name) })
    assert.is_true(rpc.remove(name))
    assert.is_false(rpc.remove(name))
    assert.are.same({ false, name .. " not found" }, { pcall(name) })
    assert.is_false(rpc.remove(H.unique("never")))
  end)

  it("create accepts a public flag", function()
    local name = H.unique("rpub")
    assert.is_true(rpc.create(name, function() return "p" end, true))
    assert.are.same({ true, "p" }, { pcall(name) })
    rpc.remove(name)
    local name2 = H.unique("rpub2")
    assert.is_true(rpc.create(name2, function() return "q" end, false))
    rpc.remove(name2)
  end)

  it("create rejects bad names and non-functions", function()
    assert.has_error(function() rpc.create("", function() end) end)
    H.raises(function() rpc.create(nil, function() end) end, "bad argument #1")
    H.raises(function() rpc.create({}, function() end) end, "bad argument #1")
    H.raises(function() rpc.create(H.unique("x")) end, "bad argument #2")
    H.raises(function() rpc.create(H.unique("x"), "f") end, "bad argument #2")
  end)

  it("remove rejects a non-string", function()
    H.raises(function() rpc.remove() end, "bad argument #1")
    H.raises(function() rpc.remove({}) end, "bad argument #1")
  end)

  it("a service's names go away when it ends", function()
    local tag, job = start_agent()
    local name = H.unique("rgone")
    assert.is_true((pcall(tag, ("rpc.create(%q, function() return 1 end)"):format(name))))
    assert.are.same({ true, 1 }, { pcall(name) })
    job:close()
    assert.are.same({ false, name .. " not found" }, { pcall(name) })
  end)

  it("queued calls for a removed name get false, 'function not found'", function()
    local tag, job = start_agent()
    local victim, blocker = H.unique("rvictim"), H.unique("rblocker")
    assert.is_true((pcall(tag, ([[
      rpc.create(%q, function() return "ran" end)
      rpc.create(%q, function()
        local t0 = os.steady_clock("ms")
        while os.steady_clock("ms") - t0 < 150 do end  -- busy, no yield
        return rpc.remove(%q)
      end)
    ]]):format(victim, blocker, victim))))
    local cb1, wait1 = collector()
    local cb2, wait2 = collector()
    assert.is_true(pcall(blocker, cb1))
    assert.is_true(pcall(victim, cb2))
    assert.are.same({ n = 2, true, true }, wait1())
    assert.are.same({ n = 2, false, "function not found" }, wait2())
    job:close()
  end)
end)

describe("pcall rpc form (sync)", function()
  it("calls its own handler and returns true plus results", function()
    local name = H.unique("ps_self")
    rpc.create(name, function(a, b) return a + b, "x", nil, false end)
    local r = table.pack(pcall(name, 2, 3))
    assert.are.same({ n = 5, true, 5, "x", nil, false }, r)
    rpc.remove(name)
  end)

  it("handler with no results gives just true", function()
    local name = H.unique("ps_none")
    rpc.create(name, function() end)
    assert.are.equal(1, select("#", pcall(name)))
    rpc.remove(name)
  end)

  it("copies arguments and results (types kept)", function()
    local tag, job = start_agent()
    local t = { 1, 2, { x = "y" }, [10] = 1.5 }
    local ok, back, mt = pcall(tag, "local t = ...; t.added = true; return t, math.type(t[1])", t)
    assert.is_true(ok, back)
    assert.is_nil(t.added) -- the caller's table was not touched
    assert.is_true(back.added)
    assert.are.equal("integer", mt)
    assert.are.equal(1.5, back[10])
    assert.are.same({ x = "y" }, back[3])
    job:close()
  end)

  it("unknown name: false, '<name> not found'", function()
    local name = H.unique("ps_missing")
    assert.are.same({ false, name .. " not found" }, { pcall(name, 1, 2) })
  end)

  it("handler error: false, msg, the caller lives on", function()
    local tag, job = start_agent()
    local ok, msg = pcall(tag, "error('handler error on purpose')")
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("handler error on purpose", 1, true), msg)
    -- the service still answers
    assert.are.same({ true, 7 }, { pcall(tag, "return 7") })
    -- non-string error values
    local ok2, msg2 = pcall(tag, "error({ code = 1 })")
    assert.is_false(ok2)
    assert.is_not_nil(msg2)
    job:close()
  end)

  it("arguments that cannot be copied raise in the caller", function()
    local tag, job = start_agent()
    assert.has_error(function() pcall(tag, "return 1", function() end) end)
    local cyc = {}; cyc[1] = cyc
    assert.has_error(function() pcall(tag, "return 1", cyc) end)
    job:close()
  end)

  it("results that cannot be copied give false, msg to the caller", function()
    local tag, job = start_agent()
    local ok, msg = pcall(tag, "return print")
    assert.is_false(ok)
    assert.is_string(msg)
    assert.are.same({ true, 1 }, { pcall(tag, "return 1") })
    job:close()
  end)

  it("round-robins among the handlers of one name", function()
    local name = H.unique("ps_rr")
    local tags, jobs, ids = {}, {}, {}
    for i = 1, 3 do
      tags[i], jobs[i] = start_agent()
      assert.is_true((pcall(tags[i], ("rpc.create(%q, function() return os.id() end)"):format(name))))
      ids[jobs[i]:id()] = 0
    end
    for _ = 1, 30 do
      local ok, id = pcall(name)
      assert.is_true(ok, id)
      ids[id] = ids[id] + 1
    end
    for id, n in pairs(ids) do assert.are.equal(10, n, "service " .. id) end
    for i = 1, 3 do jobs[i]:close() end
  end)

  it("handlers may call pcall themselves (nested, back into the caller)", function()
    local inner = H.unique("ps_inner")
    rpc.create(inner, function(x) return x * 2 end)
    local tag, job = start_agent()
    local ok, a, b = pcall(tag, ("local ok, v = pcall(%q, 21); return ok, v"):format(inner))
    assert.is_true(ok, a)
    assert.is_true(a)
    assert.are.equal(42, b)
    job:close()
    rpc.remove(inner)
  end)

  it("the name must be a string for the rpc form; other values use stock pcall", function()
    assert.are.same({ true, 3 }, { pcall(function(a, b) return a + b end, 1, 2) })
    local ok, err = pcall(error, "plain")
    assert.is_false(ok)
    assert.are.equal("plain", err)
    -- no traceback appended
    local ok2, err2 = pcall(function() error("x", 0) end)
    assert.are.equal("x", err2)
    local ok3 = pcall(42)
    assert.is_false(ok3)
    local ok4 = pcall()
    assert.is_false(ok4)
  end)
end)

describe("pcall rpc form (async)", function()
  it("returns true at once; callback gets true, results later", function()
    local tag, job = start_agent()
    local cb, wait = collector()
    local t0 = os.steady_clock("ms")
    local r = table.pack(pcall(tag, cb, "os.wait(50); return ...", 1, "two"))
    assert.are.same({ n = 1, true }, r)
    assert.is_true(os.steady_clock("ms") - t0 < 50)
    assert.are.same({ n = 3, true, 1, "two" }, wait())
    job:close()
  end)

  it("async call to our own handler: callback runs later", function()
    local name = H.unique("pa_self")
    rpc.create(name, function(x) return x + 1 end)
    local cb, wait = collector()
    assert.is_true(pcall(name, cb, 1))
    assert.are.same({ n = 2, true, 2 }, wait())
    rpc.remove(name)
  end)

  it("unknown name: false, '<name> not found' and no callback", function()
    local name = H.unique("pa_missing")
    local called = false
    local r = table.pack(pcall(name, function() called = true end, 1))
    assert.are.same({ n = 2, false, name .. " not found" }, r)
    os.wait(20)
    assert.is_false(called)
  end)

  it("handler error: callback(false, msg)", function()
    local tag, job = start_agent()
    local cb, wait = collector()
    assert.is_true(pcall(tag, cb, "error('async handler error on purpose')"))
    local got = wait()
    assert.is_false(got[1])
    assert.truthy(tostring(got[2]):find("async handler error on purpose", 1, true))
    job:close()
  end)

  it("callback runs on the calling service", function()
    local tag, job = start_agent()
    local cb, wait = collector()
    assert.is_true(pcall(tag, function(ok, v) cb(ok, v, os.id()) end, "return os.id()"))
    local got = wait()
    assert.are.equal(job:id(), got[2])
    assert.are.equal(os.id(), got[3])
    job:close()
  end)

  it("callee stopped while a call is pending: false, 'cancel' promptly (sync and async)", function()
    -- the handler takes the responser and never answers: only the end of
    -- the service can resolve the call
    local NEVER = "rpc.responser(); return 'ignored'"
    local tag, job = start_agent()
    local cb, wait = collector()
    assert.is_true(pcall(tag, cb, NEVER))
    os.wait(20)
    local t0 = os.steady_clock("ms")
    job:close()
    local got = wait(3000)
    assert.are.same({ n = 2, false, "cancel" }, got)
    assert.is_true(os.steady_clock("ms") - t0 < 3000)

    -- sync: a second service stops the callee while we wait
    local tag2, job2 = start_agent()
    local name = H.unique("pa_stopper")
    local tag3, job3 = start_agent()
    assert.is_true((pcall(tag3, ([[
      rpc.create(%q, function()
        os.wait(50)
        pcall(%q, function() end, "os.stop()")
      end)
    ]]):format(name, tag2))))
    assert.is_true(pcall(name, function() end))
    local t1 = os.steady_clock("ms")
    local ok, msg = pcall(tag2, NEVER)
    assert.are.same({ false, "cancel" }, { ok, msg })
    assert.is_true(os.steady_clock("ms") - t1 < 3000)
    job2:close(); job3:close()
  end)

  it("callee stopped while its handler sleeps: the sleep ends, answer comes promptly", function()
    local tag, job = start_agent()
    local cb, wait = collector()
    assert.is_true(pcall(tag, cb, "os.wait(8000); return 'woken'"))
    os.wait(20)
    local t0 = os.steady_clock("ms")
    job:close()
    local got = wait(3000)
    assert.is_true(os.steady_clock("ms") - t0 < 3000)
    -- either the handler's answer after its os.wait returned, or the cancel
    -- of the ended service
    if got[1] then
      assert.are.same({ n = 2, true, "woken" }, got)
    else
      assert.are.same({ n = 2, false, "cancel" }, got)
    end
  end)

  it("no answer within 10 s: false, 'timeout' (sync) [slow: ~10 s]", function()
    local tag, job = start_agent()
    local cb, wait = collector()
    -- async form in parallel with the sync one: both time out
    assert.is_true(pcall(tag, cb, "rpc.responser(); return 'ignored'"))
    local t0 = os.steady_clock("ms")
    local ok, msg = pcall(tag, "rpc.responser(); return 'ignored'")
    local dt = os.steady_clock("ms") - t0
    assert.is_false(ok)
    assert.are.equal("timeout", msg)
    assert.is_true(dt >= 9900 and dt < 13000, dt)
    assert.are.same({ n = 2, false, "timeout" }, wait(3000))
    job:close()
  end)
end)

describe("message ordering", function()
  it("1000 delivers from one sender arrive in order", function()
    local tag, job = start_agent()
    local sink = H.unique("ord_sink")
    assert.is_true((pcall(tag, ("_G.got = {}; rpc.create(%q, function(i) got[#got + 1] = i end)"):format(sink))))
    for i = 1, 1000 do assert.are.equal(1, rpc.deliver(sink, 0, 0, i)) end
    local ok, got = pcall(tag, "return got")
    assert.is_true(ok, got)
    assert.are.equal(1000, #got)
    for i = 1, 1000 do
      if got[i] ~= i then error("message " .. i .. " arrived as " .. tostring(got[i])) end
    end
    job:close()
  end)

  it("1000 delivers from a service to the main service arrive in order", function()
    local sink = H.unique("ord_main")
    local got = {}
    rpc.create(sink, function(i) got[#got + 1] = i end)
    local tag, job = start_agent()
    assert.is_true((pcall(tag, ("for i = 1, 1000 do rpc.deliver(%q, 0, 0, i) end"):format(sink))))
    assert.is_true(H.wait_until(function() return #got == 1000 end, 3000))
    for i = 1, 1000 do
      if got[i] ~= i then error("message " .. i .. " arrived as " .. tostring(got[i])) end
    end
    job:close()
    rpc.remove(sink)
  end)

  it("async calls then a sync call: answered in order", function()
    local tag, job = start_agent("_G.seq = {}")
    local answers = {}
    for i = 1, 50 do
      assert.is_true(pcall(tag, function(_, v) answers[#answers + 1] = v end, "seq[#seq + 1] = ...; return ...", i))
    end
    local ok, seq = pcall(tag, "return seq")
    assert.is_true(ok)
    assert.are.equal(50, #seq)
    for i = 1, 50 do assert.are.equal(i, seq[i]) end
    assert.is_true(H.wait_until(function() return #answers == 50 end, 2000))
    for i = 1, 50 do assert.are.equal(i, answers[i]) end
    job:close()
  end)
end)

describe("rpc.deliver", function()
  local name, jobs, tags, ids
  before_each(function()
    name = H.unique("dl")
    jobs, tags, ids = {}, {}, {}
    for i = 1, 4 do
      tags[i], jobs[i] = start_agent()
      assert.is_true((pcall(tags[i], ([[
        _G.got = {}
        rpc.create(%q, function(...) got[#got + 1] = { ... } end)
      ]]):format(name))))
      ids[i] = jobs[i]:id()
    end
    table.sort(ids)
  end)
  after_each(function()
    for i = 1, 4 do jobs[i]:close() end
  end)

  -- ids of the services that received something, and what
  local function receivers()
    local r = {}
    for i = 1, 4 do
      local ok, got, id = pcall(tags[i], "local g = got; got = {}; return g, os.id()")
      assert(ok, got)
      if #got > 0 then r[id] = got end
    end
    return r
  end

  it("mask 0, receiver 0 broadcasts to every handler", function()
    assert.are.equal(4, rpc.deliver(name, 0, 0, "all", 1))
    local r = receivers()
    for i = 1, 4 do assert.are.same({ { "all", 1 } }, r[ids[i]]) end
  end)

  it("mask ~= 0 picks handler (mask mod n) + 1 in id order", function()
    for mask = 1, 9 do
      assert.are.equal(1, rpc.deliver(name, mask, 0, mask))
      local r = receivers()
      local expect = ids[(mask % 4) + 1]
      assert.are.same({ [expect] = { { mask } } }, r, "mask " .. mask)
    end
  end)

  it("the same mask always picks the same handler", function()
    for _ = 1, 5 do rpc.deliver(name, 7, 0, "x") end
    local r = receivers()
    local n = 0
    for _, got in pairs(r) do n = n + 1; assert.are.equal(5, #got) end
    assert.are.equal(1, n)
  end)

  it("negative masks shard too (one handler)", function()
    assert.are.equal(1, rpc.deliver(name, -3, 0, "neg"))
    local n = 0
    for _ in pairs(receivers()) do n = n + 1 end
    assert.are.equal(1, n)
  end)

  it("receiver ~= 0 sends only to that service", function()
    assert.are.equal(1, rpc.deliver(name, 0, ids[3], "to3"))
    assert.are.same({ [ids[3]] = { { "to3" } } }, receivers())
    assert.are.equal(1, rpc.deliver(name, 5, ids[2], "to2"))
    assert.are.same({ [ids[2]] = { { "to2" } } }, receivers())
    assert.are.equal(0, rpc.deliver(name, 0, os.id(), "nobody"))
    assert.are.equal(0, rpc.deliver(name, 0, 0xFFFF, "nobody"))
  end)

  it("an unknown name returns 0", function()
    assert.are.equal(0, rpc.deliver(H.unique("dl_none"), 0, 0))
    assert.are.equal(0, rpc.deliver(H.unique("dl_none"), 3, 0))
  end)

  it("mask and receiver must be integers", function()
    H.raises(function() rpc.deliver(name, 1.5, 0) end, "bad argument #2")
    H.raises(function() rpc.deliver(name, "x", 0) end, "bad argument #2")
    H.raises(function() rpc.deliver(name, nil, 0) end, "bad argument #2")
    H.raises(function() rpc.deliver(name, 0, 0.5) end, "bad argument #3")
    H.raises(function() rpc.deliver(name, 0) end, "bad argument #3")
    H.raises(function() rpc.deliver(nil, 0, 0) end, "bad argument #1")
  end)

  it("arguments that cannot be copied raise", function()
    assert.has_error(function() rpc.deliver(name, 0, 0, function() end) end)
  end)

  it("delivering to our own handler runs it later, not inside deliver", function()
    local n2 = H.unique("dl_self")
    local got = {}
    rpc.create(n2, function(...)
      local t = { ... }
      t.caller = rpc.caller()
      got[#got + 1] = t
    end)
    assert.are.equal(1, rpc.deliver(n2, 0, os.id(), "me", 1))
    assert.are.equal(0, #got)
    assert.is_true(H.wait_until(function() return #got == 1 end, 1000))
    assert.are.same({ "me", 1, caller = os.id() }, got[1])
    rpc.remove(n2)
  end)

  it("handler errors are only logged", function()
    local n2 = H.unique("dl_err")
    rpc.create(n2, function() error("deliver handler error on purpose") end)
    assert.are.equal(1, rpc.deliver(n2, 0, 0))
    os.wait(20)
    rpc.remove(n2)
  end)
end)

-- pcall's rpc form and rpc.deliver read plain arguments (nil, booleans,
-- numbers, strings) straight off the Lua stack; these check that what
-- arrives is exactly what was sent, from the main script and from a service.
describe("plain arguments of pcall and rpc.deliver", function()
  local values = table.pack(1, 2.0, -7, math.maxinteger, math.mininteger, 0.5, "a\0b", "\255\254", "",
    true, false, nil, 3, nil)
  local kinds_src = [[
    return function(...)
      local k = { n = select("#", ...) }
      for i = 1, k.n do local v = select(i, ...); k[i] = math.type(v) or type(v) end
      return k
    end
  ]]
  local kinds = load(kinds_src)()
  local expected = kinds(table.unpack(values, 1, values.n))

  it("keep their values, types and count (main script)", function()
    assert.are.same({ n = 14, "integer", "float", "integer", "integer", "integer", "float", "string", "string",
      "string", "boolean", "boolean", "nil", "integer", "nil" }, expected)
    local name = H.unique("plain")
    rpc.create(name, function(...) return kinds(...), table.pack(...) end)
    local ok, k, got = pcall(name, table.unpack(values, 1, values.n))
    assert.is_true(ok, k)
    assert.are.same(expected, k)
    assert.are.same(values, got)
    rpc.remove(name)
    local seen
    rpc.create(name, function(...) seen = { kinds(...), table.pack(...) } end)
    assert.are.equal(1, rpc.deliver(name, 0, 0, table.unpack(values, 1, values.n)))
    assert.is_true(H.wait_until(function() return seen ~= nil end, 3000))
    assert.are.same({ expected, values }, seen)
    rpc.remove(name)
  end)

  it("keep their values, types and count (inside a service)", function()
    local tag, job = start_agent()
    local ok, inner_ok, k, got, dk, dgot = pcall(tag, [[
      local kinds_src, name = ...
      local kinds = load(kinds_src)()
      local values = table.pack(select(3, ...))
      rpc.create(name, function(...) return kinds(...), table.pack(...) end)
      local ok, k, got = pcall(name, table.unpack(values, 1, values.n))
      assert(ok, k)
      local seen
      rpc.create(name .. ".d", function(...) seen = { kinds(...), table.pack(...) } end)
      assert(rpc.deliver(name .. ".d", 0, 0, table.unpack(values, 1, values.n)) == 1)
      for _ = 1, 300 do if seen then break end os.wait(10) end
      return ok, k, got, seen[1], seen[2]
    ]], kinds_src, H.unique("plain_in"), table.unpack(values, 1, values.n))
    assert.is_true(ok, inner_ok)
    assert.is_true(inner_ok)
    assert.are.same({ expected, values, expected, values }, { k, got, dk, dgot })
    job:close()
  end)

  it("a name that is not UTF-8 raises, and nothing is sent", function()
    H.raises(function() pcall("\255x", 1) end, "utf-8")
    H.raises(function() rpc.deliver("\255x", 0, 0, 1) end, "utf-8")
  end)
end)

describe("rpc.caller", function()
  it("is 0 outside a handler", function()
    assert.are.equal(0, rpc.caller())
  end)

  it("is the caller's id inside a handler, also across a blocking call", function()
    local name = H.unique("caller")
    rpc.create(name, function()
      local before = rpc.caller()
      os.wait(20)
      return before, rpc.caller()
    end)
    local tag, job = start_agent()
    local ok, a, b, me = pcall(tag, ("local ok, a, b = pcall(%q); return a, b, os.id()"):format(name))
    assert.is_true(ok, a)
    assert.are.equal(job:id(), me)
    assert.are.equal(me, a)
    assert.are.equal(me, b)
    -- our own call to our own handler
    local ok2, c, d = pcall(name)
    assert.is_true(ok2)
    assert.are.equal(os.id(), c)
    assert.are.equal(os.id(), d)
    job:close()
    rpc.remove(name)
  end)

  it("is the sender for deliver; 0 in timers and posted functions", function()
    local name = H.unique("caller_dl")
    local got
    rpc.create(name, function() got = rpc.caller() end)
    local tag, job = start_agent()
    assert.is_true((pcall(tag, ("rpc.deliver(%q, 0, 0)"):format(name))))
    assert.is_true(H.wait_until(function() return got ~= nil end, 2000))
    assert.are.equal(job:id(), got)
    local in_post, in_timer
    os.post(function() in_post = rpc.caller() end)
    os.timer():expires(1, function() in_timer = rpc.caller() end)
    assert.is_true(H.wait_until(function() return in_post and in_timer end, 2000))
    assert.are.equal(0, in_post)
    assert.are.equal(0, in_timer)
    job:close()
    rpc.remove(name)
  end)

  it("two interleaved handlers each keep their own caller", function()
    local name = H.unique("caller_inter")
    rpc.create(name, function(ms)
      local c = rpc.caller()
      os.wait(ms)
      return c, rpc.caller()
    end)
    local t1, j1 = start_agent()
    local t2, j2 = start_agent()
    local cb1, w1 = collector()
    local cb2, w2 = collector()
    pcall(t1, cb1, ("return pcall(%q, 60)"):format(name))
    pcall(t2, cb2, ("return pcall(%q, 10)"):format(name))
    local r1, r2 = w1(), w2()
    assert.are.same({ n = 4, true, true, j1:id(), j1:id() }, r1)
    assert.are.same({ n = 4, true, true, j2:id(), j2:id() }, r2)
    j1:close(); j2:close()
    rpc.remove(name)
  end)
end)

describe("rpc.responser", function()
  it("is nil outside a handler", function()
    assert.is_nil(rpc.responser())
  end)

  it("defers the answer to a timer; return values are ignored", function()
    local name = H.unique("resp")
    rpc.create(name, function(x)
      local respond = rpc.responser()
      assert(type(respond) == "function")
      os.timer():expires(20, function() respond(x, "later") end)
      return "ignored"
    end)
    local tag, job = start_agent()
    local ok, a, b, c = pcall(tag, ("return pcall(%q, 5)"):format(name))
    assert.is_true(ok, a)
    assert.is_true(a)
    assert.are.equal(5, b)
    assert.are.equal("later", c)
    -- sync call to our own handler, answered from the timer
    assert.are.same({ true, 6, "later" }, { pcall(name, 6) })
    job:close()
    rpc.remove(name)
  end)

  it("only the first call returns the function; respond answers once", function()
    local name = H.unique("resp_once")
    local second, r1, r2
    rpc.create(name, function()
      local respond = rpc.responser()
      second = rpc.responser()
      os.post(function()
        r1 = respond("first")
        r2 = respond("second")
      end)
    end)
    assert.are.same({ true, "first" }, { pcall(name) })
    assert.is_nil(second)
    assert.is_true(H.wait_until(function() return r2 ~= nil end, 1000))
    assert.is_true(r1)
    assert.is_false(r2)
    rpc.remove(name)
  end)

  it("respond with values that cannot be copied: the caller gets false, msg", function()
    local name = H.unique("resp_bad")
    rpc.create(name, function() local r = rpc.responser(); os.post(function() pcall(r, print) end) end)
    local ok, msg = pcall(name)
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("cannot wrap a function", 1, true), msg)
    rpc.remove(name)
  end)

  it("async: a result that cannot be copied gives callback(false, msg)", function()
    local tag, job = start_agent()
    local cb, wait = collector()
    assert.is_true(pcall(tag, cb, "return print"))
    local got = wait()
    assert.is_false(got[1])
    assert.truthy(tostring(got[2]):find("cannot wrap a function", 1, true))
    job:close()
  end)

  it("respond with no values gives just true", function()
    local name = H.unique("resp_empty")
    rpc.create(name, function() local r = rpc.responser(); os.post(r) end)
    assert.are.equal(1, select("#", pcall(name)))
    rpc.remove(name)
  end)

  it("is nil in a handler run by rpc.deliver", function()
    local name = H.unique("resp_dl")
    local got = "unset"
    rpc.create(name, function() got = rpc.responser() end)
    rpc.deliver(name, 0, 0)
    assert.is_true(H.wait_until(function() return got ~= "unset" end, 1000))
    assert.is_nil(got)
    rpc.remove(name)
  end)

  it("is nil in posted functions and timers, even inside a handler's turn", function()
    local name = H.unique("resp_post")
    local in_post = "unset"
    rpc.create(name, function()
      os.post(function() in_post = rpc.responser() end)
      return 1
    end)
    assert.are.same({ true, 1 }, { pcall(name) })
    assert.is_true(H.wait_until(function() return in_post ~= "unset" end, 1000))
    assert.is_nil(in_post)
    rpc.remove(name)
  end)

  it("works for the async form", function()
    local name = H.unique("resp_async")
    rpc.create(name, function(x)
      local respond = rpc.responser()
      os.timer():expires(5, function() respond(x + 1) end)
    end)
    local tag, job = start_agent()
    local ok, r = pcall(tag, ([[
      local got
      assert(pcall(%q, function(...) got = { ... } end, 41))
      while not got do os.wait(5) end
      return got
    ]]):format(name))
    assert.is_true(ok, r)
    assert.are.same({ true, 42 }, r)
    job:close()
    rpc.remove(name)
  end)

  it("handler raising after taking the responser: caller gets false, err", function()
    local name = H.unique("resp_raise")
    local late
    rpc.create(name, function()
      local respond = rpc.responser()
      os.timer():expires(10, function() late = respond("too late") end)
      error("raised after responser on purpose")
    end)
    local ok, msg = pcall(name)
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("raised after responser on purpose", 1, true), msg)
    assert.is_true(H.wait_until(function() return late ~= nil end, 1000))
    assert.is_false(late)
    rpc.remove(name)
  end)
end)

describe("rpc misc", function()
  it("a 10 MiB string goes there and back", function()
    local tag, job = start_agent()
    local big = ("0123456789abcdef"):rep(640 * 1024)
    local ok, len, back = pcall(tag, "local s = ...; return #s, s", big)
    assert.is_true(ok, len)
    assert.are.equal(#big, len)
    assert.is_true(back == big)
    job:close()
  end)

  it("an error in an async callback is logged; later callbacks still run", function()
    local tag, job = start_agent()
    assert.is_true(pcall(tag, function() error("callback error on purpose") end, "return 1"))
    local cb, wait = collector()
    assert.is_true(pcall(tag, cb, "return 2"))
    assert.are.same({ n = 2, true, 2 }, wait())
    job:close()
  end)

  it("an async callback may block", function()
    local tag, job = start_agent()
    local cb, wait = collector()
    assert.is_true(pcall(tag, function(_, v)
      local ok, w = pcall(tag, "return ... * 10", v)
      cb(ok, w)
    end, "return 4"))
    assert.are.same({ n = 2, true, 40 }, wait())
    job:close()
  end)

  it("a service may pload from a handler; its child stops with it", function()
    local tag, job = start_agent()
    local child = H.unique("rpc_grandchild")
    local ok, state = pcall(tag, ("local ok, j = os.pload('helpers.agent', %q); _G.j = j; return j:state()"):format(child))
    assert.is_true(ok, state)
    assert.are.equal("running", state)
    assert.are.same({ true, 1 }, { pcall(child, "return 1") })
    job:close()
    assert.is_true(H.wait_until(function()
      local ok2, msg = pcall(child, "return 1")
      return not ok2 and msg == child .. " not found"
    end, 3000), "grandchild still running")
  end)

  it("a service may call its own handlers (sync, from a handler)", function()
    local tag, job = start_agent()
    local ok, r = pcall(tag, ("return select(2, pcall(%q, 'return 9'))"):format(tag))
    assert.is_true(ok, r)
    assert.are.equal(9, r)
    job:close()
  end)

  it("handlers interleave only at blocking points", function()
    local name = H.unique("interleave")
    local log = {}
    rpc.create(name, function(tagv, ms)
      log[#log + 1] = tagv .. " start"
      if ms > 0 then os.wait(ms) end
      log[#log + 1] = tagv .. " end"
    end)
    local cb1, w1 = collector()
    local cb2, w2 = collector()
    pcall(name, cb1, "a", 30)
    pcall(name, cb2, "b", 0)
    w1(); w2()
    assert.are.same({ "a start", "b start", "b end", "a end" }, log)
    rpc.remove(name)
  end)
end)
