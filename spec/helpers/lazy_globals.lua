-- Built on first use in a service: `coroutine` (with waits passing through),
-- `bind`, `throw` and `trace`. Answers "lazy.report" with what it saw.
function main()
  local before = rawget(_G, "coroutine") == nil and rawget(_G, "bind") == nil
  rpc.create("lazy.report", function()
    local required = require "coroutine"
    local waited = coroutine.wrap(function()
      os.wait(1)
      return "after a wait"
    end)()
    local ok, thrown = pcall(throw, "a", 1)
    return {
      absent_at_start = before,
      require_gives_the_global = required == coroutine,
      waited = waited,
      bound = bind(function(a, b) return a + b end, 2)(3),
      thrown = thrown,
      trace = type(trace),
    }
  end)
  while not os.stopped() do os.wait() end
end
