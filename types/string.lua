---@meta

-- `string` additions. The `string` table is every string's `__index`, so
-- each works as a method too: `s:split(",")`. All work on bytes; "letter",
-- "digit" and "whitespace" mean ASCII only. Numbers are accepted where a
-- string is expected.

---Splits `str` at each occurrence of `sep` (a plain string of any length,
---not a pattern). Empty pieces are kept: `("a,,b"):split(",")` is
---`{"a", "", "b"}` and `(""):split(",")` is `{""}`. An empty `sep` raises.
---@param str string
---@param sep string
---@return string[] pieces
---@nodiscard
function string.split(str, sep) end

---`str` without leading and trailing whitespace (space, `\t`, `\n`, `\v`,
---`\f`, `\r`).
---@param str string
---@return string trimmed
---@nodiscard
function string.trim(str) end

---Whether `a` and `b` are equal ignoring ASCII case.
---@param a string
---@param b string
---@return boolean equal
---@nodiscard
function string.icmp(a, b) end

---Whether every byte of `str` is an ASCII letter (`false` for `""`).
---@param str string
---@return boolean
---@nodiscard
function string.isalpha(str) end

---Whether every byte of `str` is an ASCII letter or digit (`false` for `""`).
---@param str string
---@return boolean
---@nodiscard
function string.isalnum(str) end
