---@meta

-- `json`: UTF-8 JSON text (RFC 8259), the surface of lua-rapidjson.

---@class skynet.json
---@field null lightuserdata The JSON `null` (the NULL light userdata, same value as lua-cjson's `cjson.null`).
json = {}

---Options of `json.encode` (read without metamethods).
---@class skynet.json.options
---@field pretty? boolean One member per line, 4-space indent.
---@field sort_keys? boolean Object keys in byte order.
---@field empty_table_as_array? boolean Write empty tables as `[]`.

---Writes `value` as JSON. Tables with keys exactly `1..n` (n >= 1) are arrays,
---other tables objects (number keys written as strings); an empty table is
---`{}`, or `[]` when marked as an array (`json.array`, decoded from `[]`,
---`__jsontype = "array"`, or `opts.empty_table_as_array`). Integers stay
---integers, floats keep a float form (`1.0`). `nil` and `json.null` are
---`null`. Raises on NaN or infinity, functions, threads, other userdata, keys
---that are not strings or numbers, invalid UTF-8, and nesting deeper than
---1000.
---@param value any
---@param opts? skynet.json.options
---@return string text
---@nodiscard
function json.encode(value, opts) end

---Parses one JSON value. `null` is `json.null`; numbers without fraction or
---exponent that fit in 64 bits are integers; arrays and objects carry marker
---metatables so they encode back as the same kind. Fails with `nil, msg`
---(naming line and column) on invalid JSON or nesting deeper than 1000.
---@param text string
---@return any value
---@return string? err
---@nodiscard
function json.decode(text) end

---Marks `t` (or a new empty table) as a JSON array, replacing its metatable,
---and returns it: an empty marked table encodes as `[]`.
---@generic T: table
---@param t? T
---@return T t
function json.array(t) end

---Marks `t` (or a new empty table) as a JSON object, replacing its
---metatable, and returns it: it always encodes as an object.
---@generic T: table
---@param t? T
---@return T t
function json.object(t) end
