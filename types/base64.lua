---@meta

-- `base64`: standard alphabet (`A-Z a-z 0-9 + /`).

---@class skynet.base64
base64 = {}

---Encodes `str` (binary-safe) with `=` padding and no line breaks.
---@param str string
---@return string encoded
---@nodiscard
function base64.encode(str) end

---Decodes `str`; the `=` padding is optional. Anything else (characters
---outside the alphabet, whitespace, a bad length, misplaced padding, non-zero
---unused bits) fails with `nil, "invalid base64"`.
---@param str string
---@return string? bytes
---@return string? err
---@nodiscard
function base64.decode(str) end
