-- Every function skynet exports has a LuaLS annotation in types/ (README,
-- "Editor support"): the globals it adds or replaces, the functions of its
-- tables and of stock tables it extends, and the methods of each kind of
-- object. Annotations of functions not exported (yet) are allowed.
local read_file = require("support.net").read_file
local root = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "../"

-- What the annotation files declare: `names[path]` for `function a.b.c(`
-- and for `---@field`s of a class bound to a global table (`json = {}`);
-- `methods[class][name]` for `function obj:name(` / `function obj.name(`
-- where `local obj = {}` follows `---@class class`, and for its fields.
local function declarations(texts)
  local names, methods = {}, {}
  for file, text in pairs(texts) do
    local class, fields, var_class = nil, {}, {}
    for line in text:gmatch("[^\n]*") do
      local c = line:match("^%-%-%-@class%s+([%w_.]+)")
      local field = line:match("^%-%-%-@field%s+([%w_]+)%??%s")
      if c then
        class, fields = c, {}
        methods[class] = methods[class] or {}
      elseif class and field then
        fields[#fields + 1] = field
        methods[class][field] = true
      elseif not line:match("^%-%-%-") then
        local is_local, var = line:match("^(l?o?c?a?l?)%s*([%w_.]+)%s*=%s*{%s*}")
        if class and var then
          var_class[var] = class
          if is_local == "" then
            for _, f in ipairs(fields) do names[var .. "." .. f] = true end
          end
        end
        class = nil
      end
      local path = line:match("^function%s+([%w_.]+)%s*%(")
      if path then
        names[path] = true
        local var, name = path:match("^([%w_]+)%.([%w_]+)$")
        if var and var_class[var] then methods[var_class[var]][name] = true end
      end
      local var, name = line:match("^function%s+([%w_]+):([%w_]+)%s*%(")
      if var then
        local owner = assert(var_class[var], file .. ": method of '" .. var .. "' before its ---@class")
        methods[owner][name] = true
      end
    end
  end
  return names, methods
end

-- The exports without an annotation (sorted), given the exporter's lines.
local function missing(exports, names, methods)
  local out = {}
  for _, entry in ipairs(exports) do
    local class, name = entry:match("^([%w_.]+):([%w_]+)$")
    local found
    if class then found = methods[class] and methods[class][name] else found = names[entry] end
    if not found then out[#out + 1] = entry end
  end
  table.sort(out)
  return out
end

local function annotation_texts()
  local texts = {}
  local ls = assert(io.popen("ls " .. root .. "types/*.lua"))
  for path in ls:lines() do texts[path:match("[^/]*$")] = assert(read_file(path)) end
  ls:close()
  return texts
end

-- The exporter runs in its own process (it must see the stock state first).
local function exports()
  local p = assert(io.popen("cd " .. root .. " && timeout 30 lua5.4 spec/helpers/exports.lua 2>&1"))
  local out = p:read("a")
  p:close()
  assert(out:find("\n%-%- end of exports\n$"), "exporter failed:\n" .. out)
  local list = {}
  for line in out:gmatch("[^\n]+") do
    if line ~= "-- end of exports" then list[#list + 1] = line end
  end
  return list
end

describe("types/ annotations", function()
  local list, texts = exports(), annotation_texts()

  it("the exporter sees globals, stock-table additions, lazy tables and object methods", function()
    local set = {}
    for _, e in ipairs(list) do set[e] = true end
    for _, e in ipairs { "pcall", "os.exit", "os.pload", "string.split", "table.export", "rpc.create",
                         "json.encode", "crypto.hmac.sha256", "io.http.parse_url", "io.socket",
                         "skynet.skiplist:insert", "skynet.job:close", "skynet.socket:read" } do
      assert.is_true(set[e], e)
    end
    assert.is_nil(set["os.time"])   -- stock, unchanged: not ours
    assert.is_nil(set["string.format"])
  end)

  it("annotate every exported function and method", function()
    local names, methods = declarations(texts)
    assert.are.same({}, missing(list, names, methods))
  end)

  it("a removed annotation is reported", function()
    local cut = {}
    for file, text in pairs(texts) do
      cut[file] = text:gsub("\nfunction os%.pload%(", "\nlocal _ = (", 1)
        :gsub("\nfunction skiplist:insert%(", "\nlocal _ = (", 1)
        :gsub("\n%-%-%-@field null ", "\n--- null ", 1)
    end
    local names, methods = declarations(cut)
    assert.are.same({ "json.null", "os.pload", "skynet.skiplist:insert" },
      missing({ "os.pload", "os.wait", "skynet.skiplist:insert", "skynet.skiplist:update", "json.null" }, names, methods))
  end)

  it("declare each class once and parse as Lua", function()
    local seen = {}
    for file, text in pairs(texts) do
      assert(load(text, "@types/" .. file))
      assert.is_truthy(text:find("^%-%-%-@meta"), file .. " lacks ---@meta")
      for class in text:gmatch("\n%-%-%-@class%s+([%w_.]+)") do
        assert.is_nil(seen[class], class .. " declared twice")
        seen[class] = file
      end
    end
  end)
end)
