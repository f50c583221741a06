-- http.broker with its handlers on another node of a cluster (docs/API.md §18,
-- §19): a master, a node publishing handlers (spec/helpers/
-- broker_cluster_node.lua) and a node running only the broker
-- (spec/helpers/broker_cluster_front.lua), three real processes driven by curl.
-- Needs cluster.master and cluster.adapter (issue 7, cluster half).
require "skynet"
package.path = "spec/?.lua;" .. package.path
local P = require("support.procs")
local H = require "support.helpers"

local VERSION = "skynet-lua/" .. os.version()

-- Until the cluster modules are in this checkout the spec is reported as
-- pending instead of failing the whole run.
if not (package.searchpath("cluster.master", P.root .. "/lua/?.lua")
    and package.searchpath("cluster.adapter", P.root .. "/lua/?.lua")) then
  describe("http.broker in front of a cluster", function()
    pending("needs lua/cluster/master.lua and lua/cluster/adapter.lua (issue 7, cluster half)")
  end)
  return
end

--- A port that was free a moment ago (the master does not report its port).
local function free_port()
  local out = P.sh([[python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])']])
  return assert(tonumber(out))
end

--- Waits until something accepts TCP connections on the port.
local function wait_listening(port)
  local probe = string.format([[python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",%d),1)' 2>/dev/null]], port)
  if not H.wait_until(function() return os.execute(probe) end, 20000) then
    error("nothing listens on port " .. port)
  end
  return true
end

--- Names reach other nodes asynchronously: retry until the status is not 404.
local function curl_until_found(opts, url)
  local r
  H.wait_until(function()
    r = P.curl(opts, url)
    return r.status and r.status ~= 404
  end, 10000)
  return r
end

describe("http.broker in front of a cluster", function()
  local master, node, front, base
  lazy_setup(function()
    local master_port = free_port()
    master = P.skynet("cluster.master " .. master_port .. " 127.0.0.1")
    wait_listening(master_port)
    node = P.skynet("helpers.broker_cluster_node " .. master_port)
    P.wait_output(node, "node ready")
    -- the broker's node joins last: it must learn the names that already exist
    front = P.skynet("helpers.broker_cluster_front " .. master_port)
    local port = P.wait_output(front, "http.broker works on port (%d+)")
    P.wait_output(front, "front ready")
    base = "http://127.0.0.1:" .. port
  end)
  lazy_teardown(P.stop_all)

  it("calls a public handler of another node with the query", function()
    local r = curl_until_found("", base .. "/remote/echo?q=a+b")
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal("caller>0xFFFF=true q=a b|", r.body)
    -- the broker's own name still answers locally
    assert.are.equal(VERSION, P.curl("", base .. "/").body)
  end)

  it("passes a POST body (binary-safe) across nodes", function()
    local file = os.tmpname()
    local body = "\0\1\2\255 binary\r\n\r\nend"
    P.write_file(file, body)
    local r = curl_until_found("--data-binary @" .. file, base .. "/remote/echo?q=post")
    os.remove(file)
    assert.are.equal(200, r.status, r.raw)
    assert.are.equal("caller>0xFFFF=true q=post|" .. body, r.body)
  end)

  it("sends a remote table result as JSON", function()
    local r = curl_until_found("", base .. "/remote/table?q=x")
    assert.are.equal("application/json", r.headers["content-type"])
    assert.is_true(P.json_is(r.body, '{"from": "node", "q": "x", "list": [1, 2]}'), r.body)
  end)

  it("500 with the remote error text, gzip of a remote result", function()
    local r = curl_until_found("", base .. "/remote/fail")
    assert.are.equal(500, r.status, r.raw)
    assert.are.equal("remote handler failed", r.body)
    r = curl_until_found("--compressed", base .. "/remote/big")
    assert.are.equal("gzip", r.headers["content-encoding"])
    assert.are.equal(string.rep("0123456789", 3000), r.body)
  end)

  it("404 for a name that is not public on the other node", function()
    curl_until_found("", base .. "/remote/echo")
    local r = P.curl("", base .. "/remote/private")
    assert.are.equal(404, r.status, r.raw)
    assert.are.equal("remote:private not found", r.body)
  end)

  it("404 once the handlers' node is gone (SIGKILL); the broker keeps serving", function()
    assert.are.equal(200, curl_until_found("", base .. "/remote/echo").status)
    P.stop(node, "KILL")
    local r
    H.wait_until(function() -- the link drop removes the names at once; 5 s at most
      r = P.curl("", base .. "/remote/echo")
      return r.status == 404
    end, 5000)
    assert.are.equal(404, r.status, r.raw)
    assert.are.equal(VERSION, P.curl("", base .. "/").body)
  end)
end)
