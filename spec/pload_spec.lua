-- os.pload and job objects (API.md §2.3, §2.4, §8).
require "skynet"
local U = require "helpers.util"
local assert_error_contains, unique = U.assert_error_contains, U.unique

describe("os.pload", function()
  it("starts a service: true, job; job:id is a fresh positive id", function()
    local tag = unique("pl_start")
    local ok, job = os.pload("helpers.agent", tag)
    assert.is_true(ok, job)
    local id = job:id()
    assert.is_number(id)
    assert.is_true(math.type(id) == "integer")
    assert.is_true(id > 0 and id <= 0xFFFF)
    assert.are_not.equal(os.id(), id)
    assert.are.equal("running", job:state())
    local ok2, cid, cname = pcall(tag, "return os.id(), os.name()")
    assert.is_true(ok2, cid)
    assert.are.equal(id, cid)
    assert.are.equal("helpers.agent", cname)
    job:close()
    assert.are.equal("dead", job:state())
  end)

  it("gives distinct ids to two running services", function()
    local t1, t2 = unique("pl_a"), unique("pl_b")
    local _, j1 = os.pload("helpers.agent", t1)
    local _, j2 = os.pload("helpers.agent", t2)
    assert.are_not.equal(j1:id(), j2:id())
    j1:close()
    j2:close()
  end)

  it("turns / and \\ into . and strips a trailing .lua", function()
    for _, name in ipairs({ "helpers/args", "helpers\\args", "helpers.args.lua", "helpers/args.lua" }) do
      local tag = unique("pl_name")
      local ok, job = os.pload(name, tag)
      assert.is_true(ok, tostring(job) .. " for " .. name)
      local ok2, _, chunk_arg, sname = pcall(tag)
      assert.is_true(ok2, chunk_arg)
      assert.are.equal("helpers.args", sname, name)
      assert.are.equal("helpers.args", chunk_arg, name)
      job:close()
    end
  end)

  it("copies the extra arguments to main", function()
    local tag = unique("pl_args")
    local ok, job = os.pload("helpers.args", tag, 1, 2.5, "s\0x", true, { a = { 1, 2 } }, nil, false)
    assert.is_true(ok, job)
    local ok2, args = pcall(tag)
    assert.is_true(ok2, args)
    assert.are.equal(7, args.n)
    assert.are.equal(1, args[1]); assert.are.equal("integer", math.type(args[1]))
    assert.are.equal(2.5, args[2])
    assert.are.equal("s\0x", args[3])
    assert.are.equal(true, args[4])
    assert.are.same({ a = { 1, 2 } }, args[5])
    assert.is_nil(args[6])
    assert.are.equal(false, args[7])
    job:close()
  end)

  it("keeps trailing nils in the argument count", function()
    local tag = unique("pl_nils")
    local ok, job = os.pload("helpers.args", tag, 1, nil, nil)
    assert.is_true(ok, job)
    local ok2, args = pcall(tag)
    assert.is_true(ok2, args)
    assert.are.equal(3, args.n)
    job:close()
  end)

  it("fails with false, msg when the module is not found", function()
    local ok, msg = os.pload("helpers.no_such_module_xyz")
    assert.is_false(ok)
    assert.is_string(msg)
    assert.truthy(msg:find("no_such_module_xyz", 1, true))
  end)

  it("fails with false, msg when the chunk does not compile", function()
    local ok, msg = os.pload("helpers.syntax_err")
    assert.is_false(ok)
    assert.is_string(msg)
    assert.truthy(msg:find("syntax_err", 1, true), msg)
  end)

  it("fails with false, msg when the chunk raises", function()
    local ok, msg = os.pload("helpers.chunk_raise")
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("chunk raised on purpose", 1, true), msg)
  end)

  it("fails with 'no main function in <name>' when main is missing", function()
    local ok, msg = os.pload("helpers.nomain")
    assert.is_false(ok)
    assert.are.equal("no main function in helpers.nomain", msg)
  end)

  it("fails with the error when main raises before becoming ready", function()
    local ok, msg = os.pload("helpers.main_raise")
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("main raised on purpose", 1, true), msg)
  end)

  it("gives true and a dead job when main returns at once", function()
    local ok, job = os.pload("helpers.quick")
    assert.is_true(ok, job)
    assert.are.equal("dead", job:state())
    job:close() -- no-op
    job:close()
    assert.are.equal("dead", job:state())
  end)

  it("job state becomes 'error' when main raises after becoming ready", function()
    local ok, job = os.pload("helpers.raise_later")
    assert.is_true(ok, job)
    assert.is_true(U.wait_until(function() return job:state() ~= "running" end, 3000))
    assert.are.equal("error", job:state())
    job:close() -- no-op on an ended job
    assert.are.equal("error", job:state())
  end)

  it("blocks the parent until the child's first os.wait", function()
    local tag = unique("pl_ready")
    local t0 = os.steady_clock("ms")
    local ok, job = os.pload("helpers.slow_ready", tag, 150)
    local dt = os.steady_clock("ms") - t0
    assert.is_true(ok, job)
    assert.is_true(dt >= 150, "pload returned after " .. dt .. " ms")
    -- the handler was registered just before the first wait
    local ok2, r = pcall(tag)
    assert.is_true(ok2, r)
    assert.are.equal("ready", r)
    job:close()
  end)

  it("raises 'no name' for a missing, empty or non-string name", function()
    assert_error_contains(function() os.pload() end, "no name")
    assert_error_contains(function() os.pload("") end, "no name")
    assert_error_contains(function() os.pload(42) end, "no name")
    assert_error_contains(function() os.pload({}) end, "no name")
    assert_error_contains(function() os.pload(nil, "x") end, "no name")
  end)

  it("raises when an argument cannot be copied", function()
    assert.has_error(function() os.pload("helpers.agent", unique("pl_nc"), function() end) end)
    assert.has_error(function() os.pload("helpers.agent", unique("pl_nc"), coroutine.create(print)) end)
    local t = {}; t.self = t
    assert.has_error(function() os.pload("helpers.agent", unique("pl_nc"), t) end)
  end)

  it("a child may call the parent's handlers before it is ready", function()
    local pname, tag = unique("pl_parent_h"), unique("pl_cp")
    rpc.create(pname, function(x) return x .. "!" end)
    local ok, job = os.pload("helpers.call_parent", pname, tag)
    assert.is_true(ok, job)
    assert.are.same({ true, true, "from child!" }, { pcall(tag) })
    job:close()
    rpc.remove(pname)
  end)

  it("100 services: unique ids, all closed; a closed id is not reused at once", function()
    local jobs, seen = {}, {}
    for i = 1, 100 do
      local ok, job = os.pload("helpers.quick")
      assert.is_true(ok, job)
      local ok2, live = os.pload("helpers.agent", unique("pl_many"))
      assert.is_true(ok2, live)
      for _, id in ipairs({ job:id(), live:id() }) do
        assert.is_nil(seen[id], "id " .. id .. " handed out twice")
        seen[id] = true
      end
      jobs[#jobs + 1] = live
    end
    for _, job in ipairs(jobs) do job:close() end
    for _, job in ipairs(jobs) do assert.are.equal("dead", job:state()) end
  end)

  it("the child inherits package.path", function()
    local tag = unique("pl_path")
    local ok, job = os.pload("helpers.agent", tag)
    assert.is_true(ok, job)
    local ok2, p, cp = pcall(tag, "return package.path, package.cpath")
    assert.is_true(ok2, p)
    assert.are.equal(package.path, p)
    assert.are.equal(package.cpath, cp)
    job:close()
  end)
end)

describe("job objects", function()
  it("job:close stops the child and blocks until it ended", function()
    local tag = unique("job_close")
    local _, job = os.pload("helpers.agent", tag)
    assert.is_true((pcall(tag, "return 1")))
    job:close()
    assert.are.equal("dead", job:state())
    local ok, msg = pcall(tag, "return 1")
    assert.is_false(ok)
    assert.are.equal(tag .. " not found", msg)
  end)

  it("job:close returns nothing", function()
    local _, job = os.pload("helpers.agent", unique("job_ret"))
    assert.are.equal(0, select("#", job:close()))
    assert.are.equal(0, select("#", job:close()))
  end)

  it("a child's children are stopped when it ends", function()
    local tag, child_tag = unique("job_parent"), unique("job_child")
    local ok, job = os.pload("helpers.parent", tag, child_tag)
    assert.is_true(ok, job)
    local ok2, cid, cstate = pcall(tag)
    assert.is_true(ok2, cid)
    assert.are.equal("running", cstate)
    assert.is_true((pcall(child_tag, "return 1")))
    job:close()
    -- the grandchild must go away too (bounded wait)
    local gone = U.wait_until(function()
      local ok3, msg = pcall(child_tag, "return 1")
      return not ok3 and msg == child_tag .. " not found"
    end, 3000)
    assert.is_true(gone, "child of a closed service still answers")
  end)

  it("a service that stops itself via os.stop ends (job becomes dead)", function()
    local tag = unique("job_stop")
    local _, job = os.pload("helpers.agent", tag)
    -- no blocking call after os.stop: a handler still suspended when main
    -- returns is cancelled (API.md §2.4)
    local ok, a = pcall(tag, "os.stop(); return os.stopped()")
    assert.is_true(ok, a)
    assert.is_true(a)
    assert.is_true(U.wait_until(function() return job:state() == "dead" end, 3000))
    job:close()
  end)

  it("garbage-collecting a job does not stop the child", function()
    local tag = unique("job_gc")
    local ok, job = os.pload("helpers.agent", tag)
    assert.is_true(ok, job)
    local id = job:id()
    job = nil
    collectgarbage(); collectgarbage()
    os.wait(20)
    local ok2, cid = pcall(tag, "return os.id()")
    assert.is_true(ok2, cid)
    assert.are.equal(id, cid)
    pcall(tag, "os.stop()")
  end)

  it("tostring(job) names it", function()
    local _, job = os.pload("helpers.agent", unique("job_str"))
    assert.truthy(tostring(job):find("job", 1, true))
    job:close()
  end)
  it("a child still starting when its parent ends is stopped too (regression: orphaned spawn)", function()
    local hold = unique("orphan_hold")
    rpc.create(hold, function() rpc.responser() end) -- never answers
    local ptag, ctag = unique("orphan_parent"), unique("orphan_child")
    local ok, parent = os.pload("helpers.agent", ptag)
    assert.is_true(ok, parent)
    -- The parent starts a child whose start-up blocks before its first os.wait.
    assert.is_true(pcall(ptag, function() end,
      "return os.pload('helpers.agent', ...)", ctag, "pcall(...)", hold))
    local up = false
    for _ = 1, 200 do
      if pcall(ctag, "return 1") then up = true break end
      os.wait(10)
    end
    assert.is_true(up, "the child never came up")
    parent:close()
    local gone = false
    for _ = 1, 200 do
      local _, err = pcall(ctag, "return 1")
      if err == ctag .. " not found" then gone = true break end
      os.wait(10)
    end
    assert.is_true(gone, "the child outlived its parent")
    rpc.remove(hold)
  end)
end)
