---@meta

-- `std`: a doubly linked list and a sorted set with scores (skiplist).

---@class skynet.std
std = {}

---Creates an empty doubly linked list of Lua values.
---@return skynet.list list
---@nodiscard
function std.list() end

---Creates an empty skiplist: a sorted set of unique elements with scores.
---`comp`: `nil`/`false` sorts by ascending score, `true` by descending score
---(equal scores keep insertion order), or a function
---`comp(a, b, scoreA, scoreB, tiebreak)` returning a number (<0: `a` first,
---0: equal, >0: `b` first); `tiebreak` is `-1` if `a` was inserted (or last
---updated) before `b`, else `1`.
---@param comp? boolean|fun(a: any, b: any, scoreA: number, scoreB: number, tiebreak: integer): number
---@return skynet.skiplist skiplist
---@nodiscard
function std.skiplist(comp) end

---A doubly linked list (`std.list()`). `#list` is its size; `pairs(list)`
---iterates front to back yielding `value, iter`, and the list may be changed
---during the loop. An `iter` is an integer handle naming one element until it
---is removed. O(1) operations except `clear` and `reverse`.
---@class skynet.list
---@operator len: integer
local list = {}

---Whether the list is empty.
---@return boolean
function list:empty() end

---The number of elements (same as `#list`).
---@return integer
function list:size() end

---Removes every element.
function list:clear() end

---The first value, or `nil` if empty.
---@return any
function list:front() end

---The last value, or `nil` if empty.
---@return any
function list:back() end

---Appends `v` (not nil: raises). Returns the new element's `iter`.
---@param v any
---@return integer iter
function list:push_back(v) end

---Prepends `v` (not nil: raises). Returns the new element's `iter`.
---@param v any
---@return integer iter
function list:push_front(v) end

---Removes and returns the last value, or `nil` if empty.
---@return any
function list:pop_back() end

---Removes and returns the first value, or `nil` if empty.
---@return any
function list:pop_front() end

---Reverses the list in place; `iter`s stay valid.
function list:reverse() end

---Removes the element named by `iter`. Without `iter`: the element last
---yielded by the running `pairs` loop, or the back element outside a loop.
---@param iter? integer
---@return boolean removed `false` if the element is already gone.
function list:erase(iter) end

---A skiplist (`std.skiplist()`): unique elements (`data`, any non-nil value
---but NaN) ordered by score; ranks start at 1. `#sl` is its size,
---`sl[data]` its score (method names win over elements), `sl[data] = score`
---is `sl:update(data, score)`, and `pairs(sl)` is `sl:rank_pairs()`.
---Insert, delete, update, `rank_of` and `get_by_rank` are O(log n).
---@class skynet.skiplist
---@operator len: integer
local skiplist = {}

---Inserts `data` with `score`. Raises `"value exists"` if `data` is present.
---@param data any
---@param score number
---@return boolean ok Always `true`.
function skiplist:insert(data, score) end

---Inserts `data` or moves it to `score`; a `nil` score deletes it.
---@param data any
---@param score number?
function skiplist:update(data, score) end

---Removes `data`.
---@param data any
---@return boolean removed `false` if it was absent.
function skiplist:delete(data) end

---Whether `data` is present.
---@param data any
---@return boolean
function skiplist:exists(data) end

---The score of `data`, or `nil`.
---@param data any
---@return number? score
function skiplist:get_score(data) end

---The rank of `data` (1 = first), or `nil`.
---@param data any
---@return integer? rank
function skiplist:rank_of(data) end

---The number of elements (same as `#sl`).
---@return integer
function skiplist:size() end

---The element at rank `r` and its score, or `nil, "err index"`.
---@param r integer
---@return any data
---@return number|string score_or_err
function skiplist:get_by_rank(r) end

---Removes the element at rank `r`; returns it and its score, or
---`nil, "err index"`.
---@param r integer
---@return any data
---@return number|string score_or_err
function skiplist:del_by_rank(r) end

---Removes the elements ranked `min` to `max` (`max` defaults to `min`). A
---range outside `[1, size]` or `min > max` raises `bad rank range`.
---@param min integer
---@param max? integer
---@return integer count The number removed.
function skiplist:del_by_rank_range(min, max) end

---The elements ranked `min` to `max` as `{[rank] = data}` keyed by their
---real ranks; the whole list by default (`{}` when empty). A bad range raises.
---@param min? integer
---@param max? integer
---@return table<integer, any> elements
function skiplist:rank_range(min, max) end

---The elements whose score is in `[min, max]` (`max` defaults to +inf) in
---rank order, with the ranks of the first and last of them; nothing if none.
---`min > max` raises.
---@param min number
---@param max? number
---@return any[]? elements
---@return integer? first_rank
---@return integer? last_rank
function skiplist:score_range(min, max) end

---An iterator of `rank, data, score` over ranks `min` to `max` (the whole
---list by default). Deleting elements during the loop is safe. A bad range
---raises.
---@param min? integer
---@param max? integer
---@return fun(): (integer?, any, number?) iterator
function skiplist:rank_pairs(min, max) end
