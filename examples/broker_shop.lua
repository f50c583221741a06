-- The service behind examples/broker.lua: a tiny shop whose rpc names the
-- broker maps to URLs (/shop/price -> "shop:price", /shop/order -> "shop:order").
local prices = { apple = 3, pear = 4, plum = 2 }
local orders = {}

-- GET /shop/price?item=apple -> "3" (the body is tostring of the result)
local function price(query)
  local p = prices[query.item]
  if not p then error("no such item: " .. tostring(query.item), 0) end -- -> 500
  return p
end

-- POST /shop/order?item=pear&n=2 with a note as body -> JSON (a table result)
local function order(query, body)
  local n = math.tointeger(tonumber(query.n)) or 1
  orders[#orders + 1] = { item = query.item, n = n, note = body }
  return { id = #orders, total = price(query) * n, note = body }
end

function main()
  rpc.create("shop:price", price)
  rpc.create("shop:order", order)
  while not os.stopped() do os.wait() end
end
