-- The main loop of the bundled TCP services (skynet.console, skynet.metrics):
-- checks `port [host]` (host defaults to 127.0.0.1), listens, says where,
-- hands each connection to `serve(peer)` (a coroutine each) and runs until
-- the service is stopped.
return function(name, port, host, serve)
  port = math.tointeger(port)
  if not port or port < 0 or port > 65535 then error(("usage: %s port [host]"):format(name), 0) end
  host = host or "127.0.0.1"
  local server = io.server("tcp")
  local ok, err = server:listen(host, port, function(peer) serve(peer) end)
  if not ok then error(("%s: cannot listen on %s:%d: %s"):format(name, host, port, err), 0) end
  print(("%s listening on %s:%d"):format(name, host, server:endpoint().port))
  while not os.stopped() do os.wait() end
  server:close()
end
