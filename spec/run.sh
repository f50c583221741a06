#!/bin/sh
# Runs every test: the Rust unit tests, then the busted specs against a fresh
# release build of this checkout (not whatever luarocks installed earlier).
set -e
cd "$(dirname "$0")/.."
cargo test --no-default-features --features vendored
cargo build --release
mkdir -p build/lib
ln -sf "$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/libskynet.so" build/lib/skynet.so
# Specs and the processes they start find this checkout's module, Lua files and launcher.
export LUA_CPATH="$PWD/build/lib/?.so;;"
export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;$PWD/spec/?.lua;$PWD/examples/?.lua;;"
export SKYNET_LAUNCHER="$PWD/bin/skynet"
out=$(mktemp)
status=0
busted --lua=lua5.4 "$@" spec >"$out" 2>&1 || status=$?
cat "$out"
# The plain summary line CI tools understand: "N passed, N failed".
awk '/success(es)? \/ [0-9]+ failures? \/ [0-9]+ errors?/ { print $1 " passed, " $4 + $7 " failed" }' "$out"
rm -f "$out"
exit $status
