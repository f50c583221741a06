-- Nothing unbounded (docs/ARCHITECTURE.md "Limits"): mailboxes with a
-- high-water mark, stops that discard a backlog, pending work bounded by
-- memory only, per-service memory limits, exit statuses. The heavy cases
-- run in processes of their own so that their memory is measured alone.
require "skynet"
local H = require "support.helpers"

--- Peak resident memory of the calling process, in MiB.
local PEAK_RSS = [[
  local function peak_mib()
    for line in io.lines("/proc/self/status") do
      local kb = line:match("^VmHWM:%s+(%d+)")
      if kb then return tonumber(kb) / 1024 end
    end
  end
]]

local function run(src, env, secs)
  local status, out, err = H.run_script(src, env, secs or 120)
  assert.are.equal(0, status, "exit status; stderr:\n" .. err)
  return (out:gsub("%s+", " "))
end

describe("mailbox high-water mark", function()
  it("1,000,000 one-way 1 KB messages to a slow service: all arrive, RSS stays under 300 MB", function()
    local out = run(PEAK_RSS .. [[
      require "skynet"
      local ok, sink = os.pload("helpers.slow_sink", "lim.sink", 2)
      assert(ok, sink)
      local payload = string.rep("x", 1024)
      local sent = 0
      for _ = 1, 1000000 do sent = sent + rpc.deliver("lim.sink", 0, 0, payload) end
      local count, bytes
      repeat
        os.wait(50)
        count, bytes = select(2, pcall("lim.sink.count"))
      until count == 1000000
      print(sent, count, bytes, math.floor(peak_mib()))
      sink:close()
    ]], "SKYNET_THREADS=2 ")
    local sent, count, bytes, peak = out:match("(%d+)%s+(%d+)%s+(%d+)%s+(%d+)")
    assert.are.equal("1000000", sent)
    assert.are.equal("1000000", count)
    assert.are.equal(tostring(1000000 * 1024), bytes)
    assert.is_true(tonumber(peak) < 300, "peak RSS " .. peak .. " MiB")
  end)

  it("two services flooding each other both finish (no deadlock)", function()
    local out = run([[
      require "skynet"
      local src = [=[
        function main(me, other)
          local got = 0
          rpc.create(me, function() got = got + 1 end)
          rpc.create(me .. ".go", function()
            for _ = 1, 200000 do rpc.deliver(other, 0, 0, "flood") end
            return true
          end)
          rpc.create(me .. ".got", function() return got end)
          while not os.stopped() do os.wait() end
        end
      ]=]
      local dir = os.tmpname(); os.remove(dir); os.execute("mkdir -p " .. dir)
      local f = io.open(dir .. "/flooder.lua", "w"); f:write(src); f:close()
      package.path = dir .. "/?.lua;" .. package.path
      local _, a = os.pload("flooder", "fa", "fb")
      local _, b = os.pload("flooder", "fb", "fa")
      local done = 0
      pcall("fa.go", function() done = done + 1 end)
      pcall("fb.go", function() done = done + 1 end)
      local t0 = os.steady_clock("s")
      rpc.timeout(60000)
      while done < 2 and os.steady_clock("s") - t0 < 60 do os.wait(20) end
      local ga, gb
      repeat os.wait(20); ga, gb = select(2, pcall("fa.got")), select(2, pcall("fb.got"))
      until (ga == 200000 and gb == 200000) or os.steady_clock("s") - t0 > 60
      print(done, ga, gb)
      a:close() b:close()
      os.execute("rm -rf " .. dir)
    ]], "SKYNET_MAILBOX_LIMIT=1000 ")
    assert.are.equal("2 200000 200000", out:match("%d+ %d+ %d+"))
  end)

  it("a sender over the mark waits; its own events keep running meanwhile", function()
    local out = run([[
      require "skynet"
      local ok, sink = os.pload("helpers.slow_sink", "lim.wait", 200)
      local ticks = 0
      local t = os.timer()
      t:expires(1, function() ticks = ticks + 1 return true end)
      local t0 = os.steady_clock("ms")
      for _ = 1, 300 do rpc.deliver("lim.wait", 0, 0, "m") end
      local waited = os.steady_clock("ms") - t0
      t:cancel()
      print(waited > 10, ticks > 0)
      sink:close()
    ]], "SKYNET_MAILBOX_LIMIT=100 ")
    assert.are.equal("true true", out:match("%a+ %a+"))
  end)
end)

describe("stopping a service with a backlog", function()
  it("job:close() returns within 1 s with 50,000 queued; waiting callers get cancel", function()
    local out = run([[
      require "skynet"
      local ok, sink = os.pload("helpers.slow_sink", "lim.backlog", 1000)
      for _ = 1, 50000 do rpc.deliver("lim.backlog", 0, 0, "m") end
      local answers = {}
      for i = 1, 10 do pcall("lim.backlog.call", function(...) answers[#answers + 1] = select(2, ...) end, i) end
      local t0 = os.steady_clock("ms")
      sink:close()
      local took = os.steady_clock("ms") - t0
      local t1 = os.steady_clock("ms")
      while #answers < 10 and os.steady_clock("ms") - t1 < 5000 do os.wait(5) end
      local cancels = 0
      for _, a in ipairs(answers) do if a == "cancel" then cancels = cancels + 1 end end
      print(took, cancels)
    ]], "", 60)
    local took, cancels = out:match("(%d+)%s+(%d+)")
    assert.is_true(tonumber(took) < 1000, "close took " .. took .. " ms")
    assert.are.equal("10", cancels)
  end)
end)

describe("pending work", function()
  it("1,500,000 pending timers in one service all fire, and an unrelated call answers", function()
    local out = run([[
      require "skynet"
      local src = [=[
        function main()
          local fired = 0
          local function tick() fired = fired + 1 end
          rpc.create("lim.timers.arm", function(n)
            for i = 1, n do os.timer():expires(200 + i % 500, tick) end
            return true
          end)
          rpc.create("lim.timers.fired", function() return fired end)
          rpc.create("lim.timers.ping", function() return "pong" end)
          while not os.stopped() do os.wait() end
        end
      ]=]
      local dir = os.tmpname(); os.remove(dir); os.execute("mkdir -p " .. dir)
      local f = io.open(dir .. "/timers_svc.lua", "w"); f:write(src); f:close()
      package.path = dir .. "/?.lua;" .. package.path
      local _, job = os.pload("timers_svc")
      rpc.timeout(60000)
      assert(pcall("lim.timers.arm", 1500000))
      local pong = select(2, pcall("lim.timers.ping"))
      local fired, t0 = 0, os.steady_clock("s")
      repeat os.wait(100); fired = select(2, pcall("lim.timers.fired")) until fired == 1500000 or os.steady_clock("s") - t0 > 60
      print(pong, fired, select(2, pcall("lim.timers.ping")))
      job:close()
      os.execute("rm -rf " .. dir)
    ]], "", 120)
    assert.are.equal("pong 1500000 pong", out:match("%a+ %d+ %a+"))
  end)

  it("1,200,000 posted functions all run", function()
    local out = run([[
      require "skynet"
      local ran = 0
      local function job(a, b) ran = ran + a + b end
      for _ = 1, 1200000 do os.post(job, 1, 0) end
      while ran < 1200000 do os.wait(0) end
      print(ran)
    ]])
    assert.are.equal("1200000", out:match("%d+"))
  end)
end)

describe("decompression", function()
  it("1 GiB bombs (deflate and gzip) are refused with RSS under 300 MB", function()
    local base = os.tmpname()
    -- Made by python, streaming, so that no process of ours ever holds 1 GiB.
    local _, st = H.sh(([[python3 -c '
import zlib, sys
for wbits, name in ((-15, "deflate"), (31, "gzip")):
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    with open(sys.argv[1] + "." + name, "wb") as f:
        zero = bytes(1 << 20)
        for _ in range(1024):
            f.write(c.compress(zero))
        f.write(c.flush())
' %s]]):format(H.q(base)))
    assert.are.equal(0, st)
    local out = run(PEAK_RSS .. ([[
      require "skynet"
      local function slurp(p) local f = io.open(p, "rb") local s = f:read("a") f:close() return s end
      local results = {}
      for _, method in ipairs({ "deflate", "gzip" }) do
        local bomb = slurp(%q .. "." .. method)
        local v, why = uncompress(bomb, method)
        results[#results + 1] = tostring(#bomb < (2 << 20)) .. " " .. tostring(v) .. " " .. why
      end
      print(table.concat(results, " | "), math.floor(peak_mib()))
    ]]):format(base), "", 120)
    os.remove(base); os.remove(base .. ".deflate"); os.remove(base .. ".gzip")
    assert.truthy(out:find("true nil output exceeds 67108864 bytes | true nil output exceeds 67108864 bytes", 1, true), out)
    local peak = tonumber(out:match("(%d+) $"))
    assert.is_true(peak < 300, "peak RSS " .. tostring(peak) .. " MiB")
  end)
end)

describe("connections", function()
  it("3,000 idle connections cost under 16 KiB each, and memory goes back after they close", function()
    local out = run([[
      require "skynet"
      local function rss_kib()
        for line in io.lines("/proc/self/status") do
          local kb = line:match("^VmRSS:%s+(%d+)")
          if kb then return tonumber(kb) end
        end
      end
      local N = 3000
      local ok, job = os.pload("helpers.conn_server")
      local port = select(2, pcall("cs.port"))
      os.wait(200)
      local before = rss_kib()
      local client = io.popen(("python3 -c \"import socket,time\nss=[socket.create_connection(('127.0.0.1',%d)) for _ in range(%d)]\nprint('open', flush=True)\ntime.sleep(15)\" & echo $!"):format(port, N))
      local pid = client:read("l")
      local t0 = os.steady_clock("s")
      repeat os.wait(50) until select(2, pcall("cs.count")) >= N or os.steady_clock("s") - t0 > 20
      os.wait(300)
      local during = rss_kib()
      pcall("cs.close")
      os.wait(2500)
      local after = rss_kib()
      os.execute("kill " .. pid .. " 2>/dev/null")
      print(select(2, pcall("cs.count")), (during - before) / N, during - before, after - before)
      job:close()
    ]], "", 60)
    local count, each, growth, kept = out:match("(%d+) ([%d.]+) (%d+) (%-?%d+)")
    assert.are.equal("3000", count)
    assert.is_true(tonumber(each) < 16, each .. " KiB per idle connection")
    assert.is_true(tonumber(kept) < tonumber(growth) / 2, "kept " .. kept .. " of " .. growth .. " KiB after closing")
  end)

  it("SKYNET_MAX_CONNECTIONS: an accept over the cap is closed at once; a closed slot is free again", function()
    local out = run([[
      require "skynet"
      local srv = io.server("tcp")
      local peers = {}
      assert(srv:listen("127.0.0.1", 0, function(peer) peers[#peers + 1] = peer end))
      local port = srv:endpoint().port
      local clients = {}
      for i = 1, 3 do
        clients[i] = io.socket("tcp")
        assert(clients[i]:connect("127.0.0.1", port))
      end
      -- 3 clients + 3 accepted = the cap of 6: a 4th client cannot even start
      os.wait(200)
      local extra = io.socket("tcp")
      local ok, why = extra:connect("127.0.0.1", port)
      print("accepted", #peers, "4th connect", ok, why)
      clients[3]:close()
      peers[3]:close()
      os.wait(100)
      local again = io.socket("tcp")
      print("after a close", again:connect("127.0.0.1", port))
      os.wait(200)
      print("accepted now", #peers)
    ]], "SKYNET_MAX_CONNECTIONS=6 ")
    assert.truthy(out:find("accepted 3 4th connect false too many open connections (6)", 1, true), out)
    assert.truthy(out:find("after a close true", 1, true), out)
    assert.truthy(out:find("accepted now 4", 1, true), out)
  end)

  it("an accept over the cap is closed at once (the peer sees the end)", function()
    local out = run([[
      require "skynet"
      local srv = io.server("tcp")
      local n = 0
      assert(srv:listen("127.0.0.1", 0, function(peer) n = n + 1 end))
      local port = srv:endpoint().port
      local script = os.tmpname()
      local f = io.open(script, "w")
      f:write(("import socket\nss=[socket.create_connection(('127.0.0.1',%d)) for _ in range(3)]\n"
        .. "ss[2].settimeout(5)\nprint('third got', repr(ss[2].recv(10)))\n"):format(port))
      f:close()
      local p = io.popen("python3 " .. script)
      local t0 = os.steady_clock("s")
      while n < 2 and os.steady_clock("s") - t0 < 5 do os.wait(20) end
      os.wait(500)
      print(p:read("a"), "accepted", n)
      os.remove(script)
    ]], "SKYNET_MAX_CONNECTIONS=2 ")
    assert.truthy(out:find("third got b'' accepted 2", 1, true), out)
  end)
end)

describe("memory per service", function()
  it("os.memory reports the heap; over os.memlimit an allocation fails and the service keeps serving", function()
    local ok, job = os.pload("helpers.agent", "lim.mem", [[
      rpc.create("lim.mem.fill", function(n)
        local t = {}
        for i = 1, n do t[i] = string.rep("x", 1000) .. i end
        return #t
      end)
      rpc.create("lim.mem.info", function() return os.memory(), os.memlimit() end)
      rpc.create("lim.mem.limit", function(n) return os.memlimit(n) end)
    ]])
    assert.is_true(ok, job)
    local _, used, limit = pcall("lim.mem.info")
    assert.is_true(used > 1000 and used < 4 << 20, tostring(used))
    assert.are.equal(0, limit)
    assert.are.same({ true, 0 }, { pcall("lim.mem.limit", 4 << 20) })
    assert.are.same({ false, "not enough memory" }, { pcall("lim.mem.fill", 100000) })
    assert.are.same({ true, 10 }, { pcall("lim.mem.fill", 10) })
    assert.are.same({ true, 4 << 20 }, { pcall("lim.mem.limit", 0) })
    assert.are.same({ true, 20000 }, { pcall("lim.mem.fill", 20000) })
    job:close()
  end)

  it("os.memory works in the main script; os.memlimit there says why it cannot", function()
    assert.is_true(math.type(os.memory()) == "integer" and os.memory() > 0)
    local limit, why = os.memlimit(1 << 30)
    assert.is_nil(limit)
    assert.are.equal("memory limits are not available in the main script", why)
    H.raises(function() os.memlimit(-1) end, "bad argument #1 to 'memlimit'")
  end)
end)

describe("exit status", function()
  local STUCK = [[
    require "skynet"
    assert(os.pload("helpers.agent", "lim.stuck", "rpc.create('lim.spin', function() while true do end end)"))
    pcall("lim.spin", function() end)
    os.wait(50)
  ]]

  it("os.exit(code) from the main script exits with code although a service is stuck", function()
    local t0 = os.time()
    local status = H.run_script(STUCK .. "os.exit(7)", "", 30)
    assert.are.equal(7, status)
    assert.is_true(os.time() - t0 <= 8)
  end)

  for _, case in ipairs({ { "INT", 130 }, { "TERM", 143 } }) do
    it("a second SIG" .. case[1] .. " during the shutdown grace exits at once with " .. case[2], function()
      local script = os.tmpname() .. ".lua"
      local f = assert(io.open(script, "w"))
      f:write(STUCK .. "io.stdout:write('ready\\n') io.stdout:flush() while not os.stopped() do os.wait() end\n")
      f:close()
      local out = H.sh(([[
        lua5.4 %s > %s.out 2>&1 &
        pid=$!
        for i in $(seq 1 100); do grep -q ready %s.out && break; sleep 0.05; done
        kill -%s $pid; sleep 0.5; start=$(date +%%s%%N)
        kill -%s $pid; wait $pid; st=$?
        echo "status=$st ms=$(( ($(date +%%s%%N) - start) / 1000000 ))"
      ]]):format(H.q(script), script, script, case[1], case[1]))
      os.remove(script); os.remove(script .. ".out")
      assert.are.equal(tostring(case[2]), out:match("status=(%d+)"), out)
      assert.is_true(tonumber(out:match("ms=(%d+)")) < 1000, out)
    end)
  end
end)
