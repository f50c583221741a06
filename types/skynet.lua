---@meta skynet

-- LuaLS annotations for skynet (lua-language-server `---@meta` files).
-- Type information only: these files are never run. See README.md,
-- "Editor support", for how to point the language server at them.

---The `skynet` module: `require "skynet"` starts the runtime once per
---process, registers the calling script as the main service and installs
---every global below (`pcall`, `bind`, `rpc`, `os.pload`, `json`, ...).
---Requiring it again returns the same table.
---@class skynet.module
---@field version string The runtime version, e.g. `"1.0.0"` (same as `os.version()`).
local skynet = {}

return skynet
