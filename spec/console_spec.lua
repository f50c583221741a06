-- skynet.console driven over a real TCP connection (docs/operations.md
-- "The console"): every command, a hot fix of a live service, a kill seen
-- by a monitor, and bad input that must not hurt the node.
require "skynet"
local H = require "support.helpers"
local C = require "support.console"
local procs = require "support.procs"

local port, console, client

setup(function()
  port = C.free_port()
  local ok
  ok, console = os.pload("skynet.console", port)
  assert(ok, console)
  client = C.connect(port)
end)

teardown(function()
  client:close()
  console:close()
end)

--- Runs `line` and expects `<ok>`; returns the reply lines.
local function ok(line)
  local lines, last = client:command(line)
  assert.are.equal("<ok>", last, line)
  return lines
end

--- Runs `line` and expects `<error> ...`; returns the message.
local function fails(line)
  local lines, last = client:command(line)
  assert.are.same({}, lines)
  return assert(last:match("^<error> (.*)$"), last)
end

--- The reply line that starts with service id `id`.
local function line_of(lines, id)
  for _, l in ipairs(lines) do
    if l:match("^(%d+) ") == tostring(id) then return l end
  end
end

local function start(module, ...)
  local started, job = os.pload(module, ...)
  assert.is_true(started, job)
  return job
end

describe("skynet.console", function()
  it("help lists every command", function()
    local text = table.concat(ok("help"), "\n")
    for _, name in ipairs { "help", "list", "stat", "mem", "top", "gc", "kill", "inject", "call", "netstat", "cluster", "trace" } do
      if name ~= "call" then assert.is_truthy(text:find("\n?" .. name .. " "), name) end
    end
  end)

  it("list: one line per service, starting with its id, the main script included", function()
    local job = start("helpers.greeter", H.unique("con_list"))
    local lines = ok("list")
    local mine = assert(line_of(lines, os.id()), "the main script is listed")
    assert.is_truthy(mine:find(" " .. os.name() .. " ", 1, true))
    local line = assert(line_of(lines, job:id()))
    assert.is_truthy(line:find("%f[%w.]helpers%.greeter%f[^%w.]"), line)
    assert.is_truthy(line:match(" running "), line)
    assert.is_truthy(line:match(" mem=[%d.]+KiB "), line)
    assert.is_truthy(line:match(" queue=%d+ msgs=%d+ cpu=[%d.]+ms$"), line)
    assert.is_truthy(line_of(lines, console:id()))
    job:close()
    assert.is_nil(line_of(ok("list"), job:id()), "an ended service is gone")
  end)

  it("stat: services, workers, messages/s, sockets, links", function()
    local lines = table.concat(ok("stat"), "\n") .. "\n"
    local services = tonumber(lines:match("services (%d+)\n"))
    assert.is_true(services >= 2)
    assert.is_true(tonumber(lines:match("workers (%d+)\n")) >= 1)
    assert.is_truthy(lines:match("messages/s %d+\n"))
    -- our connection, its accepted end and the console's listener
    assert.is_true(tonumber(lines:match("sockets (%d+)\n")) >= 3)
    assert.are.equal("0", lines:match("links (%d+)\n"))
    assert.is_truthy(lines:match("calls ok=%d+ error=%d+ timeout=%d+ not_found=%d+ cancel=%d+\n"))
  end)

  it("mem: heap per service, largest first, in KiB", function()
    local big = start("helpers.agent", H.unique("con_big"), "BIG = string.rep('x', 4 << 20) .. os.id()")
    local lines = ok("mem")
    local line = assert(line_of(lines, big:id()))
    assert.is_truthy(line:match("^%d+ helpers%.agent [%d.]+KiB$"), line)
    assert.is_true(tonumber(line:match("([%d.]+)KiB")) > 4096)
    local previous = math.huge
    for i = 1, #lines - 1 do
      local kib = tonumber(lines[i]:match(" ([%d.]+)KiB$"))
      assert.is_true(kib <= previous, "largest first")
      previous = kib
    end
    assert.is_truthy(lines[#lines]:match("^total [%d.]+KiB$"))
    big:close()
  end)

  it("top mem|queue|msgs|cpu [n]: the busiest services", function()
    local tag = H.unique("con_chatty")
    local chatty = start("helpers.chatty", tag)
    local msgs = ok("top msgs 2")
    assert.are.equal(2, #msgs)
    assert.is_truthy(msgs[1]:match("^" .. chatty:id() .. " helpers%.chatty %d+/s$"), msgs[1])
    assert.is_true(tonumber(msgs[1]:match("(%d+)/s")) > 100)
    local cpu = ok("top cpu")
    assert.is_truthy(cpu[1]:match("^%d+ %S+ [%d.]+ms/s$"), cpu[1])
    assert.are.equal(1, #ok("top mem 1"))
    for _, l in ipairs(ok("top queue")) do assert.is_truthy(l:match("^%d+ %S+ %d+$"), l) end
    assert.is_truthy(fails("top nothing"):find("usage: top", 1, true))
    chatty:close()
  end)

  it("gc [id]: a full collection, printing what was freed", function()
    local tag = H.unique("con_gc")
    local job = start("helpers.agent", tag)
    -- garbage made once the service is ready (what it made before was
    -- collected when it first waited)
    assert.is_true((pcall(tag, "local t = {} for i = 1, 20000 do t[i] = {i} end t = nil")))
    local freed = ok("gc " .. job:id())
    assert.are.equal(1, #freed)
    local kib = tonumber(freed[1]:match("^freed ([%d.]+)KiB$"))
    assert.is_true(kib > 100, freed[1])
    assert.is_truthy(ok("gc")[1]:match("^freed [%d.]+KiB$"))
    assert.are.equal("no service 65000", fails("gc 65000"))
    assert.is_truthy(fails("gc x"):find("bad service id", 1, true))
    job:close()
  end)

  it("kill id: stops the service, and its monitor hears 'killed'", function()
    local job = start("helpers.greeter", H.unique("con_kill"))
    local heard
    os.monitor(job:id(), function(id, how) heard = id .. " " .. how end)
    assert.are.same({}, ok("kill " .. job:id()))
    assert.is_true(H.wait_until(function() return heard end, 5000))
    assert.are.equal(job:id() .. " killed", heard)
    assert.are.equal("dead", job:state())
    assert.are.equal("no service " .. job:id(), fails("kill " .. job:id()))
  end)

  it("inject id file: runs the file inside the live service (a hot fix)", function()
    local tag = H.unique("con_inject")
    local job = start("helpers.greeter", tag)
    assert.are.same({ true, "hello" }, { pcall(tag) })
    local fix = os.tmpname()
    procs.write_file(fix, "function greeting() return 'patched in ' .. os.id() end\nreturn 'fixed', 42, nil\n")
    assert.are.same({ "fixed", "42", "nil" }, ok(("inject %d %s"):format(job:id(), fix)))
    assert.are.same({ true, "patched in " .. job:id() }, { pcall(tag) })
    procs.write_file(fix, "error('refused', 0)")
    assert.are.equal("refused", fails(("inject %d %s"):format(job:id(), fix)))
    os.remove(fix)
    assert.is_truthy(fails(("inject %d %s"):format(job:id(), fix)):find("No such file", 1, true))
    assert.are.equal("no service 65000", fails("inject 65000 " .. fix))
    job:close()
  end)

  it("call name [args]: calls an rpc name with JSON arguments, prints the results as JSON", function()
    local name = H.unique("con_call")
    rpc.create(name, function(...) return select("#", ...), ... end)
    assert.are.same({ '[4,1,"a",null,{"k":[true]}]' }, ok(("call %s [1, \"a\", null, {\"k\": [true]}]"):format(name)))
    assert.are.same({ "[0]" }, ok("call " .. name))
    assert.are.equal("arguments must be a JSON array", fails("call " .. name .. " {\"a\":1}"))
    assert.is_truthy(fails("call " .. H.unique("nobody")):find("not found", 1, true))
    rpc.remove(name)
  end)

  it("netstat: open sockets with their peers and byte counts", function()
    local lines = ok("netstat")
    local listener, ours
    for _, l in ipairs(lines) do
      if l:match("^%d+ tcp listen 127%.0%.0%.1:" .. port .. " ") then listener = l end
      if l:match("^%d+ tcp 127%.0%.0%.1:" .. port .. " in=%d+ out=%d+ owner=" .. os.id() .. "$") then ours = l end
    end
    assert.is_truthy(listener, table.concat(lines, "\n"))
    assert.is_truthy(ours, table.concat(lines, "\n"))
    local got, sent = ours:match("in=(%d+) out=(%d+)")
    assert.is_true(tonumber(got) > 0 and tonumber(sent) > 0)
  end)

  it("cluster: no links on a node that joined no cluster", function()
    assert.are.same({}, ok("cluster"))
  end)

  it("trace on|off: switches debug output", function()
    ok("trace on")
    assert.is_true(os.debugging())
    ok("trace off")
    assert.is_false(os.debugging())
    assert.is_truthy(fails("trace maybe"):find("usage", 1, true))
  end)

  it("unknown commands and binary garbage get an error line; the node goes on", function()
    assert.is_truthy(fails("frobnicate"):find("unknown command 'frobnicate'", 1, true))
    local garbage = fails("\0\1\2\255\254 zz")
    assert.is_nil(garbage:find("[^\32-\126]"), "the error line is printable")
    for _ = 1, 20 do
      client.socket:write(H.random_bytes(200):gsub("\n", "") .. "\n")
      local l = assert(client:line())
      assert.is_truthy(l == "<ok>" or l:match("^<error> "), l)
    end
    assert.is_true(#ok("help") > 0)
  end)

  it("a 1 MB line gets one error line; the connection and the node keep working", function()
    local before = os.id()
    assert(client.socket:write(string.rep("x", 1 << 20) .. "\n"))
    local l = assert(client:line())
    assert.is_truthy(l:match("^<error> line too long"), l)
    assert.is_truthy(line_of(ok("list"), before))
    -- A second client is served too.
    local other = C.connect(port)
    assert.is_true(#other:command("list") > 0)
    other:close()
  end)

  it("quit closes the connection", function()
    local other = C.connect(port)
    other.socket:write("quit\n")
    assert.are.same({ nil, "eof" }, { other:line() })
    other:close()
  end)
end)

describe("skynet skynet.console (the launcher)", function()
  teardown(procs.stop_all)

  it("serves the console of its own node", function()
    local p = C.free_port()
    local proc = procs.skynet("skynet.console " .. p, 60)
    procs.wait_output(proc, "listening on 127%.0%.0%.1:" .. p)
    local c = C.connect(p)
    local lines, last = c:command("list")
    assert.are.equal("<ok>", last)
    assert.is_truthy(lines[1]:match("^1 skynet%.console "), lines[1])
    c:close()
    procs.stop(proc)
  end)

  it("refuses a bad port", function()
    local out, status = procs.run_skynet("skynet.console nope")
    assert.is_truthy(out:find("usage: skynet.console port [host]", 1, true), out)
    assert.are_not.equal(0, status)
  end)
end)
