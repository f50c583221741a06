-- skynet.console: an operator's console for a running node, over TCP.
--
--   os.pload("skynet.console", port [, host])    -- inside a node
--   skynet skynet.console 7001                   -- from the launcher
--
-- A line protocol (`nc 127.0.0.1 7001`): one command per line; each reply
-- is zero or more lines, then `<ok>` or `<error> message`. No prompt. The
-- commands and their output are described in docs/operations.md.
local introspect = require "skynet.debug"
local run_server = require "skynet.serve"

-- Longer lines are refused (and skipped up to their end), so that a
-- client cannot make the console buffer without bound.
local MAX_LINE = 4096
local KiB = 1024

local fmt, concat = string.format, table.concat

local function kib(bytes)
  return fmt("%.1fKiB", bytes / KiB)
end

-- At most 60 printable characters of what a client sent, for error lines.
local function shown(s)
  s = s:gsub("[^\32-\126]", "?")
  if #s > 60 then s = s:sub(1, 57) .. "..." end
  return s
end

local function words(line)
  local out = {}
  for w in line:gmatch("%S+") do out[#out + 1] = w end
  return out
end

-- A service id argument: a positive integer, else an error.
local function id_arg(s)
  local id = s and s:match("^%d+$") and math.tointeger(tonumber(s))
  if not id then error(fmt("bad service id '%s'", shown(s or "")), 0) end
  return id
end

local function by_id()
  local rows = {}
  for _, row in ipairs(introspect.services()) do rows[row.id] = row end
  return rows
end

-- What `top` can rank by: a figure now, or its growth over one second.
local TOP = {
  mem = { field = "memory", show = kib },
  queue = { field = "queue", show = tostring },
  msgs = { field = "messages", per_second = true, show = function(v) return fmt("%d/s", v) end },
  cpu = { field = "cpu", per_second = true, show = function(v) return fmt("%.1fms/s", v) end },
}

local commands, help = {}, {}

local function command(name, usage, f)
  commands[name] = f
  help[#help + 1] = fmt("%-24s %s", name .. (usage.args and (" " .. usage.args) or ""), usage.text)
end

command("help", { text = "this list" }, function(out)
  for _, line in ipairs(help) do out(line) end
end)

command("list", { text = "services: id name worker state memory queue messages cpu" }, function(out)
  for _, s in ipairs(introspect.services()) do
    out(fmt("%d %s worker=%s %s mem=%s queue=%d msgs=%d cpu=%.1fms",
      s.id, s.name, tostring(s.worker), s.state, kib(s.memory), s.queue, s.messages, s.cpu))
  end
end)

command("stat", { text = "services, workers, messages/s, sockets, links (takes 1 s)" }, function(out)
  local before, t0 = introspect.process(), os.steady_clock()
  os.wait(1000)
  local p = introspect.process()
  local rate = (p.messages - before.messages) / math.max(os.steady_clock() - t0, 0.001)
  out(fmt("services %d", p.services))
  out(fmt("workers %d", p.workers))
  out(fmt("messages/s %.0f", rate))
  out(fmt("sockets %d", p.sockets))
  out(fmt("links %d", p.links))
  out(fmt("timers %d", p.timers))
  local c = p.calls
  out(fmt("calls ok=%d error=%d timeout=%d not_found=%d cancel=%d", c.ok, c.error, c.timeout, c.not_found, c.cancel))
end)

command("mem", { text = "Lua heap per service, largest first" }, function(out)
  local rows = introspect.services()
  table.sort(rows, function(a, b) return a.memory > b.memory end)
  local total = 0
  for _, s in ipairs(rows) do
    total = total + s.memory
    out(fmt("%d %s %s", s.id, s.name, kib(s.memory)))
  end
  out(fmt("total %s", kib(total)))
end)

command("top", { args = "mem|queue|msgs|cpu [n]", text = "the n (10) busiest services over the last second" }, function(out, what, n)
  local rank = TOP[what or ""]
  if not rank then error("usage: top mem|queue|msgs|cpu [n]", 0) end
  n = n and math.tointeger(tonumber(n)) or 10
  if n < 1 then error("n must be a positive integer", 0) end
  local rows = introspect.services()
  local value = {}
  if rank.per_second then
    local before = by_id()
    os.wait(1000)
    rows = introspect.services()
    for _, s in ipairs(rows) do
      local was = before[s.id]
      value[s] = s[rank.field] - (was and was[rank.field] or 0)
    end
  else
    for _, s in ipairs(rows) do value[s] = s[rank.field] end
  end
  table.sort(rows, function(a, b) return value[a] > value[b] end)
  for i = 1, math.min(n, #rows) do
    local s = rows[i]
    out(fmt("%d %s %s", s.id, s.name, rank.show(value[s])))
  end
end)

command("gc", { args = "[id]", text = "full collection (of one service or all), prints what was freed" }, function(out, id)
  local ids = {}
  if id then
    ids[1] = id_arg(id)
  else
    for _, s in ipairs(introspect.services()) do ids[#ids + 1] = s.id end
  end
  local freed = 0
  for _, target in ipairs(ids) do
    local ok, n = introspect.gc(target)
    if ok then
      freed = freed + n
    elseif id then
      error(n, 0)
    end
  end
  out("freed " .. kib(freed))
end)

command("kill", { args = "id", text = "stops a service (its monitors hear \"killed\")" }, function(_, id)
  id = id_arg(id)
  if not introspect.kill(id) then error(fmt("no service %d", id), 0) end
end)

command("inject", { args = "id file", text = "runs a Lua file inside a service (a hot fix)" }, function(out, id, file)
  id = id_arg(id)
  if not file then error("usage: inject id file", 0) end
  local results = table.pack(introspect.inject(id, file))
  if not results[1] then error(tostring(results[2]), 0) end
  for i = 2, results.n do out(results[i]) end
end)

command("netstat", { text = "sockets: id kind peer bytes in/out owner" }, function(out)
  for _, s in ipairs(introspect.sockets()) do
    out(fmt("%d %s %s in=%d out=%d owner=%d", s.id, s.kind, s.peer, s.bytes_in, s.bytes_out, s.owner))
  end
end)

command("cluster", { text = "links to other nodes: node address state queue" }, function(out)
  for _, l in ipairs(introspect.links()) do
    out(fmt("%d %s %s queue=%d names=%d", l.id, l.peer, l.state, l.pending, l.names))
  end
end)

command("trace", { args = "on|off", text = "debug output (os.debugging, trace) on or off" }, function(_, what)
  if what ~= "on" and what ~= "off" then error("usage: trace on|off", 0) end
  introspect.trace(what == "on")
end)

-- `call name [json array]`: the rest of the line after the name is the arguments.
local function call(out, line)
  local name, rest = line:match("^%s*call%s+(%S+)%s*(.-)%s*$")
  if not name then error("usage: call name [args as a JSON array]", 0) end
  local args, n = {}, 0
  if rest ~= "" then
    local ok, decoded = pcall(json.decode, rest)
    if not ok or type(decoded) ~= "table" or not rest:match("^%[") then
      error("arguments must be a JSON array", 0)
    end
    args, n = decoded, #decoded
    for i = 1, n do
      if args[i] == json.null then args[i] = nil end
    end
  end
  local results = table.pack(pcall(name, table.unpack(args, 1, n)))
  if not results[1] then error(tostring(results[2]), 0) end
  local list = {}
  for i = 2, results.n do list[i - 1] = results[i] == nil and json.null or results[i] end
  local ok, text = pcall(json.encode, json.array(list))
  if not ok then error("results cannot be shown as JSON: " .. tostring(text), 0) end
  out(text)
end

-- Runs one command line; returns its reply lines, ending with `<ok>` or `<error> msg`.
local function run(line)
  local reply = {}
  local function out(s) reply[#reply + 1] = (tostring(s):gsub("[\r\n]", " ")) end
  local w = words(line)
  if #w == 0 then return reply end
  local ok, err
  if w[1] == "call" then
    ok, err = pcall(call, out, line)
  elseif commands[w[1]] then
    ok, err = pcall(commands[w[1]], out, table.unpack(w, 2))
  else
    ok, err = false, fmt("unknown command '%s' (try help)", shown(w[1]))
  end
  reply[#reply + 1] = ok and "<ok>" or ("<error> " .. tostring(err):gsub("[\r\n]", " "))
  return reply
end

-- One client: read lines, answer each in turn, until it leaves or the console stops.
local function serve(peer)
  local buffer, skipping = "", false
  while not os.stopped() do
    local data = peer:read()
    if not data then break end
    buffer = buffer .. data
    while true do
      local nl = buffer:find("\n", 1, true)
      if not nl then
        if #buffer > MAX_LINE then
          if not skipping then
            peer:write(fmt("<error> line too long (more than %d bytes)\n", MAX_LINE))
          end
          skipping, buffer = true, ""
        end
        break
      end
      local line = buffer:sub(1, nl - 1):gsub("\r$", "")
      buffer = buffer:sub(nl + 1)
      if skipping then
        skipping = false
      elseif #line > MAX_LINE then
        peer:write(fmt("<error> line too long (more than %d bytes)\n", MAX_LINE))
      elseif line:match("^%s*quit%s*$") then
        peer:close()
        return
      else
        local reply = run(line)
        if #reply > 0 then peer:write(concat(reply, "\n") .. "\n") end
      end
    end
  end
  peer:close()
end

function main(port, host)
  run_server("skynet.console", port, host, serve)
end
