---@meta

-- `storage`: one key/value store for the whole process, shared by every
-- service. Keys are strings (numbers are converted as by `tostring`; other
-- types raise). Values are copied in and out as by `wrap`; a key holds a
-- list of values (trailing nils counted). Every operation is atomic.

---@class skynet.storage
storage = {}

---Whether `key` is present.
---@param key string|number
---@return boolean
function storage.exist(key) end

---Stores the values under `key`. At least one value (which may be `nil`) is
---required, else it raises `"no value"`.
---@param key string|number
---@param v1 any
---@param ... any More values.
---@return any ... The previous values, or a single `nil` if the key was new.
function storage.set(key, v1, ...) end

---Compare-and-set: while holding the store's lock calls
---`check(v1, ..., old1, ...)` (new values first, then the stored ones; none
---if the key is absent). If it returns a true value the new values are
---stored and the call returns `true, old1, ...` (`true, nil` for a new key);
---otherwise `false, nil`. Errors in `check` propagate (nothing is stored).
---`check` must not block and may read but not write the store.
---@param key string|number
---@param check fun(...: any): any
---@param v1 any
---@param ... any More values.
---@return boolean stored
---@return any ... The previous values.
function storage.set_if(key, check, v1, ...) end

---The values stored under `key` (fresh copies), or a single `nil`.
---@param key string|number
---@return any ...
function storage.get(key) end

---Removes `key` and returns its values, or a single `nil` if it was absent.
---@param key string|number
---@return any ...
function storage.erase(key) end

---Whether the store has no key.
---@return boolean
function storage.empty() end

---The number of keys.
---@return integer
function storage.size() end

---Removes every key.
function storage.clear() end
