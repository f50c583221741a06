-- The skynet rock: an actor runtime for Lua 5.4, written in Rust.
-- Builds with cargo (no other rock needed) and installs the C module,
-- the Lua services (launcher, cluster, broker, console, metrics), the `skynet` launcher and
-- the editor annotations (types/, see README "Editor support").
package = "skynet"
version = "1.0.0-1"
source = {
   url = "git+https://example.invalid/skynet.git",
}
description = {
   summary = "Actor runtime for Lua 5.4: services, RPC, timers, sockets, cluster",
   detailed = [[
      require "skynet" in any lua5.4 script starts a pool of worker threads;
      os.pload starts services (isolated lua_States) that talk by RPC.
   ]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.4, < 5.5",
}
build = {
   type = "command",
   -- luarocks installs a library under its file name: copy it to skynet.so.
   build_command = "cargo build --release && cp target/release/libskynet.so skynet.so",
   install = {
      lib = {
         skynet = "skynet.so",
      },
      lua = {
         ["skynet.launcher"] = "lua/skynet/launcher.lua",
         ["skynet.console"] = "lua/skynet/console.lua",
         ["skynet.metrics"] = "lua/skynet/metrics.lua",
         ["skynet.serve"] = "lua/skynet/serve.lua",
         ["http.broker"] = "lua/http/broker.lua",
         ["cluster.master"] = "lua/cluster/master.lua",
         ["cluster.adapter"] = "lua/cluster/adapter.lua",
      },
      bin = {
         skynet = "bin/skynet",
      },
   },
   -- Copied into the rock's own directory (`luarocks show --rock-dir skynet`):
   -- types/ holds the LuaLS annotation files, kept outside the module path so
   -- that no `require` can run these stubs over the real functions; docs/ is
   -- what `luarocks doc skynet` shows (naming any directory here replaces
   -- luarocks' default copy of the README).
   copy_directories = { "docs", "types" },
}
