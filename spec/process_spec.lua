-- Whole-process behaviour, each case in its own lua5.4 process
-- (docs/API.md §2.2, §2.4, §4; docs/ARCHITECTURE.md §7, §7c).
local H = require "support.helpers"

describe("process: load and shutdown", function()
  it("lua5.4 -e 'require \"skynet\"' exits 0, 100 times in a row", function()
    local out = H.sh([[
      fails=0
      for i in $(seq 1 100); do
        timeout -s KILL 20 lua5.4 -e 'require "skynet"' >/dev/null 2>&1
        st=$?
        if [ $st -ne 0 ]; then fails=$((fails+1)); echo "run $i: status $st"; fi
      done
      echo "fails=$fails"
    ]])
    assert.truthy(out:find("fails=0", 1, true), out)
  end)

  it("SIGPIPE does not kill a process running skynet (a write to a reset peer fails instead)", function()
    -- started with SIGPIPE at its default action (terminate), as from a shell
    local out, status = H.sh([[env --default-signal=PIPE timeout -s KILL 20 lua5.4 -e '
      require "skynet"
      local pid = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
      os.execute("kill -PIPE " .. pid)
      os.wait(50)
      print("alive")' 2>&1; echo "status $?"]])
    assert.truthy(out:find("alive\nstatus 0", 1), out)
  end)

  it("turns transparent huge pages off for the process, unless MIMALLOC_ALLOW_THP says (docs/ARCHITECTURE.md §7a)", function()
    -- the flag is inherited: this process may have it from an earlier spec,
    -- so the probe starts from a process that clears it (PR_SET_THP_DISABLE = 41)
    local probe = os.tmpname()
    local f = assert(io.open(probe, "w"))
    f:write([[
      require "skynet"
      for line in io.lines("/proc/self/status") do
        local v = line:match("^THP_enabled:%s*(%d)")
        if v then print("thp " .. v) end
      end]])
    f:close()
    local function run(env)
      return H.sh(env .. [=[ python3 -c 'import ctypes, os, sys; ctypes.CDLL(None).prctl(41, 0, 0, 0, 0); os.execvp("lua5.4", ["lua5.4", sys.argv[1]])' ]=] .. probe .. " 2>&1")
    end
    local unset = run("env -u MIMALLOC_ALLOW_THP")
    if unset == "" then
      os.remove(probe)
      pending("this kernel does not show THP_enabled in /proc/self/status")
      return
    end
    assert.are.equal("thp 0\n", unset)
    assert.are.equal("thp 1\n", run("env MIMALLOC_ALLOW_THP=1"))
    os.remove(probe)
  end)

  it("a script that ends while services still run exits 0 (100 times)", function()
    local src = [[
      require "skynet"
      local jobs = {}
      for i = 1, 4 do
        local ok, job = os.pload("helpers.agent", "proc_left_" .. i, [=[
          local t = os.timer()
          t:expires(10, function() return true end)
        ]=])
        assert(ok, job)
        jobs[i] = job
      end
      -- one of them blocked in a call to another, one sleeping in a handler
      pcall("proc_left_1", function() end, "return pcall('proc_left_2', 'os.wait(60000)')")
      pcall("proc_left_3", function() end, "while true do os.wait(1) end")
      os.wait(20)
      io.stdout:write("end of script")
    ]]
    for i = 1, 100 do
      local st, out, err = H.run_script(src)
      assert.are.equal(0, st, "run " .. i .. ": " .. err)
      assert.are.equal("end of script", out)
    end
  end)

  it("os.exit(3) from a service exits 3, 100 times in a row", function()
    local script = os.tmpname() .. ".lua"
    local f = assert(io.open(script, "w"))
    f:write([[
      require "skynet"
      assert(os.pload("helpers.agent", "proc_exit3", "os.exit(3)"))
      while not os.stopped() do os.wait() end
    ]])
    f:close()
    local out = H.sh(([[
      fails=0
      for i in $(seq 1 100); do
        timeout -s KILL 20 lua5.4 %s >/dev/null 2>&1
        st=$?
        if [ $st -ne 3 ]; then fails=$((fails+1)); echo "run $i: status $st"; fi
      done
      echo "fails=$fails"
    ]]):format(script))
    os.remove(script)
    assert.truthy(out:find("fails=0", 1, true), out)
  end)

  it("require again after clearing package.loaded: same table, same runtime", function()
    local st, out, err = H.run_script([[
      local a = require "skynet"
      local id = os.id()
      local ok, job = os.pload("helpers.agent", "proc_rereq")
      package.loaded.skynet = nil
      local b = require "skynet"
      local ok2, v = pcall("proc_rereq", "return 5")
      io.stdout:write(table.concat({ tostring(a == b), tostring(b.version == a.version),
        tostring(os.id() == id), tostring(ok2), tostring(v), job:state() }, " "))
      job:close()
    ]])
    assert.are.equal(0, st, err)
    assert.are.equal("true true true true 5 running", out)
  end)

  it("a script that requires skynet and errors exits 1 with the message", function()
    local st, _, err = H.run_script([[
      require "skynet"
      os.pload("helpers.agent", "proc_err_left")
      error("script error on purpose")
    ]])
    assert.are.equal(1, st)
    assert.truthy(err:find("script error on purpose", 1, true), err)
  end)

  it("os.name() of the main script is the script's basename without .lua", function()
    local st, out, err = H.run_script([[
      require "skynet"
      local base = arg[0]:match("([^/]+)%.lua$")
      io.stdout:write(tostring(os.name() == base), " ", os.name())
    ]])
    assert.are.equal(0, st, err)
    assert.truthy(out:find("^true "), out)
  end)
end)

describe("process: os.exit", function()
  it("os.exit(3) from a service: the process exits 3 after main cleans up", function()
    local st, out, err = H.run_script([[
      require "skynet"
      local ok, job = os.pload("helpers.agent", "proc_exit", "os.post(function() os.exit(3) end)")
      assert(ok, job)
      local t0 = os.steady_clock("ms")
      while not os.stopped() and os.steady_clock("ms") - t0 < 10000 do os.wait(100) end
      io.stdout:write("cleanup ", tostring(os.stopped()))
    ]])
    assert.are.equal(3, st, err)
    assert.are.equal("cleanup true", out)
  end)

  it("os.exit(3) from a service while main waits forever", function()
    local st, out, err = H.run_script([[
      require "skynet"
      local ok, job = os.pload("helpers.agent", "proc_exit2", "os.post(function() os.wait(20); os.exit(3) end)")
      while not os.stopped() do os.wait() end
      io.stdout:write("cleanup")
    ]])
    assert.are.equal(3, st, err)
    assert.are.equal("cleanup", out)
  end)

  it("os.exit(4) from a service while main is blocked in a call: the call cancels", function()
    local st, out, err = H.run_script([[
      require "skynet"
      os.pload("helpers.agent", "proc_exit_a1", "os.post(function() os.wait(50); os.exit(4) end)")
      os.pload("helpers.agent", "proc_exit_a2")
      local t0 = os.steady_clock("ms")
      local ok, msg = pcall("proc_exit_a2", "rpc.responser()")
      io.stdout:write(tostring(ok), " ", tostring(msg), " ", tostring(os.stopped()), " ",
        tostring(os.steady_clock("ms") - t0 < 3000))
    ]])
    assert.are.equal(4, st, err)
    assert.are.equal("false cancel true true", out)
  end)

  for _, case in ipairs({ { "true", 0 }, { "false", 1 }, { "5", 5 }, { "", 0 }, { "0", 0 } }) do
    it("os.exit(" .. case[1] .. ") from the main script exits " .. case[2], function()
      local st, out, err = H.run_script(([[
        require "skynet"
        os.pload("helpers.agent", "proc_exit_main")
        io.stdout:write("before")
        os.exit(%s)
        io.stdout:write("after")
      ]]):format(case[1]))
      assert.are.equal(case[2], st, err)
      assert.are.equal("before", out)
    end)
  end

  it("os.exit from the main script runs after pending services end (bounded)", function()
    local st, _, err = H.run_script([[
      require "skynet"
      for i = 1, 3 do os.pload("helpers.agent", "proc_exit_many" .. i) end
      os.exit(7)
    ]])
    assert.are.equal(7, st, err)
  end)
end)

describe("process: os.stop in the main script", function()
  it("os.stop makes os.wait return 0 at once; a pending call gets false, 'cancel'", function()
    local st, out, err = H.run_script([[
      require "skynet"
      local ok, job = os.pload("helpers.agent", "proc_stop")
      rpc.create("proc_stop_me", function() os.stop() end)
      local t0 = os.steady_clock("ms")
      -- the agent makes us stop while we wait for its answer
      local r = table.pack(pcall("proc_stop", "pcall('proc_stop_me', function() end); os.wait(5000); return 1"))
      local dt1 = os.steady_clock("ms") - t0
      t0 = os.steady_clock("ms")
      local a = os.wait()
      local b = os.wait(5000)
      local c = os.wait(0)
      local dt = os.steady_clock("ms") - t0
      io.stdout:write(table.concat({ tostring(r[1]), tostring(r[2]), tostring(dt1 < 2000),
        tostring(os.stopped()), a, b, c, tostring(dt < 1000) }, " "))
    ]])
    assert.are.equal(0, st, err)
    assert.are.equal("false cancel true true 0 0 0 true", out)
  end)
end)

describe("process: signals", function()
  -- The script writes its own pid to $READY (signals go to lua5.4 itself,
  -- not to `timeout`, which would relay them its own way).
  local READY = [[local f = io.open(os.getenv("READY") .. ".tmp", "w")
      f:write(io.open("/proc/self/stat"):read("n")); f:close()
      os.rename(os.getenv("READY") .. ".tmp", os.getenv("READY"))
  ]]
  local function signal_run(src, sig, extra)
    local base = os.tmpname()
    local script, ready, out = base .. ".lua", base .. ".ready", base .. ".out"
    local f = assert(io.open(script, "w")); f:write((src:gsub("READY%(%)", READY))); f:close()
    local res = H.sh(([[
      READY=%s timeout -s KILL 20 lua5.4 %s >%s 2>&1 &
      job=$!
      i=0
      while [ ! -e %s ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
      pid=$(cat %s)
      kill -%s $pid
      %s
      wait $job
      echo "status=$?"
    ]]):format(H.q(ready), H.q(script), H.q(out), H.q(ready), H.q(ready), sig, extra or ""))
    local h = io.open(out); local o = h and h:read("a") or ""; if h then h:close() end
    os.remove(script); os.remove(ready); os.remove(out); os.remove(base)
    return tonumber(res:match("status=(%d+)")), o
  end

  it("the first SIGINT stops the main service gracefully: status 0", function()
    local st, out = signal_run([[
      require "skynet"
      os.pload("helpers.agent", "proc_sig")
      READY()
      while not os.stopped() do os.wait() end
      print("graceful")
    ]], "INT")
    assert.are.equal(0, st, out)
    assert.truthy(out:find("graceful", 1, true), out)
  end)

  it("a second SIGINT kills the process: status 130", function()
    local st, out = signal_run([[
      require "skynet"
      READY()
      while not os.stopped() do os.wait() end
      print("first")
      io.stdout:flush()
      local t0 = os.steady_clock("ms")
      while os.steady_clock("ms") - t0 < 15000 do os.wait(50) end
      print("not killed")
    ]], "INT", "sleep 0.5; kill -INT $pid")
    assert.are.equal(130, st, out)
    assert.truthy(out:find("first", 1, true), out)
    assert.is_nil(out:find("not killed", 1, true))
  end)

  it("SIGTERM: first graceful (0), a second one kills (143)", function()
    local src = [[
      require "skynet"
      READY()
      while not os.stopped() do os.wait() end
      print("first")
      io.stdout:flush()
      if os.getenv("LINGER") then
        local t0 = os.steady_clock("ms")
        while os.steady_clock("ms") - t0 < 15000 do os.wait(50) end
        print("not killed")
      end
    ]]
    local st, out = signal_run(src, "TERM")
    assert.are.equal(0, st, out)
    assert.truthy(out:find("first", 1, true), out)
    local st2, out2 = signal_run(src:gsub('os.getenv%("LINGER"%)', "true"), "TERM", "sleep 0.5; kill -TERM $pid")
    assert.are.equal(143, st2, out2)
    assert.is_nil(out2:find("not killed", 1, true))
  end)

end)

describe("process: logging and the watchdog", function()
  it("a handler error is logged as [name:id] message + traceback; caller gets false, msg", function()
    local st, out, err = H.run_script([[
      require "skynet"
      local ok, job = os.pload("helpers.agent", "proc_log")
      local ok2, msg = pcall("proc_log", "error('logged error on purpose')")
      io.stdout:write(tostring(ok2), "|", tostring(msg), "|", job:id())
      job:close()
    ]])
    assert.are.equal(0, st, err)
    local ok2, msg, id = out:match("^(.-)|(.-)|(%d+)$")
    assert.are.equal("false", ok2, out)
    assert.truthy(msg:find("logged error on purpose", 1, true), out)
    assert.truthy(err:find("[helpers.agent:" .. id .. "]", 1, true), err)
    assert.truthy(err:find("logged error on purpose", 1, true), err)
    assert.truthy(err:find("stack traceback", 1, true), err)
  end)

  it("an error in main after ready is logged as [name:id] and the job is 'error'", function()
    local st, out, err = H.run_script([[
      require "skynet"
      local ok, job = os.pload("helpers.raise_later")
      local t0 = os.steady_clock("ms")
      while job:state() == "running" and os.steady_clock("ms") - t0 < 3000 do os.wait(5) end
      io.stdout:write(job:state(), " ", job:id())
    ]])
    assert.are.equal(0, st, err)
    local state, id = out:match("^(%a+) (%d+)$")
    assert.are.equal("error", state, out)
    assert.truthy(err:find("[helpers.raise_later:" .. id .. "]", 1, true), err)
    assert.truthy(err:find("main raised later", 1, true), err)
  end)

  it("a service stuck in a CPU loop is reported 'busy for' while another worker answers", function()
    local st, out, err = H.run_script([[
      require "skynet"
      local ok1, stuck = os.pload("helpers.agent", "proc_stuck")
      local ok2, alive = os.pload("helpers.agent", "proc_alive")
      assert(ok1 and ok2)
      assert(pcall("proc_stuck", function() end, "while true do end"))
      local answered = 0
      local t0 = os.steady_clock("ms")
      while os.steady_clock("ms") - t0 < 3000 do
        local ok, v = pcall("proc_alive", "return 42")
        if ok and v == 42 then answered = answered + 1 end
        os.wait(100)
      end
      io.stdout:write("answered ", answered)
      io.stdout:flush()
      os.exit(0)
    ]], "SKYNET_THREADS=2", 30)
    assert.are_not.equal(137, st, "process had to be killed: " .. err)
    local n = tonumber(out:match("answered (%d+)"))
    assert.is_true(n ~= nil and n >= 10, out)
    assert.truthy(err:find("busy for", 1, true), err)
    assert.truthy(err:find("proc_stuck", 1, true) or err:find("helpers.agent", 1, true), err)
  end)

  it("a service stuck while it starts is reported under its own name, not the last one served", function()
    local st, out, err = H.run_script([[
      require "skynet"
      local ok1, other = os.pload("helpers.agent", "proc_other")
      assert(ok1 and pcall("proc_other", "return 1"))
      local ok2, slow = os.pload("helpers.agent", "proc_slow_start",
        "local t = os.clock() while os.clock() - t < 1.5 do end")
      assert(ok2, slow)
      io.stdout:write("slow ", slow:id(), " other ", other:id())
      io.stdout:flush()
      os.exit(0)
    ]], "SKYNET_THREADS=1", 30)
    assert.are.equal(0, st, err)
    local slow, other = out:match("slow (%d+) other (%d+)")
    assert.truthy(slow, out)
    assert.truthy(err:find("helpers.agent:" .. slow .. " busy for", 1, true), err)
    assert.falsy(err:find("helpers.agent:" .. other .. " busy", 1, true), err)
  end)
end)

describe("process: os.debugging", function()
  local src = [[ require "skynet"; io.stdout:write(tostring(os.debugging())) ]]
  for _, case in ipairs({ { "SKYNET_DEBUG=1", "true" }, { "SKYNET_DEBUG=yes", "true" },
                          { "SKYNET_DEBUG=0", "false" }, { "env -u SKYNET_DEBUG", "false" } }) do
    it(case[1] .. " → " .. case[2], function()
      local st, out, err = H.run_script(src, case[1])
      assert.are.equal(0, st, err)
      assert.are.equal(case[2], out)
    end)
  end
end)
