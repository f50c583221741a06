-- os.coroutine task queues (docs/API.md §6).
require "skynet"
local H = require "support.helpers"

describe("os.coroutine", function()
  it("an idle queue starts the task before dispatch returns", function()
    local co = os.coroutine()
    local log = {}
    assert.is_true(co:dispatch(function() log[#log + 1] = 1 end))
    assert.are.same({ 1 }, log)
  end)

  it("tasks run in dispatch order; a blocking task delays the next", function()
    local co = os.coroutine()
    local log = {}
    co:dispatch(function()
      log[#log + 1] = "a start"
      os.wait(30)
      log[#log + 1] = "a end"
    end)
    co:dispatch(function() log[#log + 1] = "b" end)
    co:dispatch(bind(function(x) log[#log + 1] = x end, "c"))
    -- a started and blocked; b and c wait for it
    assert.are.same({ "a start" }, log)
    assert.is_true(H.wait_until(function() return #log == 4 end, 2000))
    assert.are.same({ "a start", "a end", "b", "c" }, log)
  end)

  it("tasks get no arguments", function()
    local co = os.coroutine()
    local n
    co:dispatch(function(...) n = select("#", ...) end)
    assert.are.equal(0, n)
  end)

  it("close(func) runs func last, then dispatch returns false", function()
    local co = os.coroutine()
    local log = {}
    co:dispatch(function() os.wait(20); log[#log + 1] = 1 end)
    co:dispatch(function() log[#log + 1] = 2 end)
    co:close(function() log[#log + 1] = "closed" end)
    assert.is_false(co:dispatch(function() log[#log + 1] = "late" end))
    co:close(function() log[#log + 1] = "closed twice" end) -- idempotent
    assert.is_true(H.wait_until(function() return #log == 3 end, 2000))
    os.wait(30)
    assert.are.same({ 1, 2, "closed" }, log)
  end)

  it("close() without func closes the queue", function()
    local co = os.coroutine()
    co:close()
    local ran = false
    assert.is_false(co:dispatch(function() ran = true end))
    os.wait(10)
    assert.is_false(ran)
    co:close()
  end)

  it("a task error is logged and the queue continues", function()
    local co = os.coroutine()
    local log = {}
    co:dispatch(function() error("task error on purpose") end)
    co:dispatch(function() log[#log + 1] = "after" end)
    assert.is_true(H.wait_until(function() return #log == 1 end, 1000))
    assert.are.same({ "after" }, log)
  end)

  it("a task error after blocking: the queue continues", function()
    local co = os.coroutine()
    local log = {}
    co:dispatch(function() os.wait(5); error("task error after wait on purpose") end)
    co:dispatch(function() log[#log + 1] = "after" end)
    assert.is_true(H.wait_until(function() return #log == 1 end, 1000))
  end)

  it("a task may dispatch to its own queue (runs after it)", function()
    local co = os.coroutine()
    local log = {}
    co:dispatch(function()
      co:dispatch(function() log[#log + 1] = "inner" end)
      log[#log + 1] = "outer"
    end)
    assert.is_true(H.wait_until(function() return #log == 2 end, 1000))
    assert.are.same({ "outer", "inner" }, log)
  end)

  it("two queues are independent", function()
    local q1, q2 = os.coroutine(), os.coroutine()
    local log = {}
    q1:dispatch(function() os.wait(40); log[#log + 1] = "q1" end)
    q2:dispatch(function() log[#log + 1] = "q2" end)
    assert.are.same({ "q2" }, log)
    assert.is_true(H.wait_until(function() return #log == 2 end, 2000))
  end)

  it("dispatch and close reject non-functions", function()
    local co = os.coroutine()
    H.raises(function() co:dispatch() end, "bad argument")
    H.raises(function() co:dispatch(1) end, "bad argument")
    H.raises(function() co:close(1) end, "bad argument")
    co:close()
    -- still an error after close
    H.raises(function() co:dispatch("x") end, "bad argument")
  end)

  it("answers rpc calls strictly in order with rpc.responser", function()
    local name = H.unique("co_order")
    local co = os.coroutine()
    rpc.create(name, function(i, delay)
      local respond = rpc.responser()
      co:dispatch(function()
        os.wait(delay)
        respond(i)
      end)
    end)
    local tag = H.unique("co_client")
    local ok, job = os.pload("helpers.agent", tag)
    assert.is_true(ok, job)
    local ok2, order = pcall(tag, ([[
      local order = {}
      local pending = 5
      for i = 1, 5 do
        assert(pcall(%q, function(ok, v) order[#order + 1] = v; pending = pending - 1 end, i, (6 - i) * 5))
      end
      while pending > 0 do os.wait(5) end
      return order
    ]]):format(name))
    assert.is_true(ok2, order)
    assert.are.same({ 1, 2, 3, 4, 5 }, order)
    job:close()
    rpc.remove(name)
  end)
end)
