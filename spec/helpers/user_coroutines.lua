-- A service whose handlers block inside coroutines of their own.
function main()
  rpc.create("uc.echo", function(...) return ... end)
  rpc.create("uc.create", function(n)
    local co = coroutine.create(function(x)
      local ok, v = pcall("uc.echo", x)
      os.wait(1)
      local y = coroutine.yield(v * 2)
      return y + 1
    end)
    local _, first = coroutine.resume(co, n)
    local status = coroutine.status(co)
    local _, last = coroutine.resume(co, 10)
    return first, status, last, coroutine.status(co)
  end)
  -- A wait where nothing can yield (a comparator called from C) is an error.
  rpc.create("uc.sort_wait", function()
    local ok, e = pcall(table.sort, { 3, 1, 2 }, function(a, b)
      os.wait(1)
      return a < b
    end)
    local still = pcall("uc.echo", "fine")
    return ok, e, still
  end)
  rpc.create("uc.generator", function()
    local gen = coroutine.wrap(function()
      for i = 1, 3 do
        os.wait(1)
        coroutine.yield(i)
      end
    end)
    return gen() + gen() + gen()
  end)
  rpc.create("uc.nested", function()
    local outer = coroutine.wrap(function()
      local inner = coroutine.wrap(function()
        local _, v = pcall("uc.echo", "deep")
        return v
      end)
      local v = inner()
      os.wait(1)
      return v .. "!"
    end)
    return outer()
  end)
  rpc.create("uc.errors", function()
    local ok1, e1 = pcall(base64.decode, {})
    local ok2, e2 = pcall(function() return base64.decode({}) end)
    local ok3, e3 = coroutine.resume(coroutine.create(function() base64.decode({}) end))
    local e4 = select(2, xpcall(function() base64.decode({}) end, function(e) return e end))
    return type(e1), e1, type(e2), e2, type(e3), e3, type(e4), e4
  end)
  while not os.stopped() do os.wait() end
end
