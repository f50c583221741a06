---@meta

-- `table` additions: process-wide read-only tables shared by all services.

---Publishes a deep copy of `t` under `name` for the whole process, replacing
---any previous export atomically; `table.export(nil, name)` removes it.
---Values may be booleans, numbers, strings and tables (up to 64 levels);
---keys numbers, strings and booleans. Raises on other values or keys
---(`"cannot export a <type>"`), on nesting too deep, and on a table that came
---from `table.import` (`"export repeat"`); the previous export then stays.
---@param t table? The table to publish, or `nil` to remove the export.
---@param name string
function table.export(t, name) end

---A read-only proxy of the export `name`, or `nil` if there is none.
---Indexing, `#`, `ipairs` and `pairs` work (nested tables come back as
---proxies); every access reads the current export, so a re-export is seen by
---existing proxies. Assignment raises `"<name> is readonly"`.
---@param name string
---@return table? proxy
---@nodiscard
function table.import(name) end
