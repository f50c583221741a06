#!/bin/sh
# http.broker requests/s: 50 concurrent clients, one connection per request
# (no keep-alive: the broker closes after each answer), measured with ab
# (apache2-utils: apt-get install apache2-utils) against bench/broker_app.lua.
#   bench/broker.sh [--requests N]     (default 20000 per URL)
# Prints RESULT lines: broker_<url> <requests/s> req/s.
set -e
cd "$(dirname "$0")/.."
REQUESTS=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) shift; REQUESTS=$1 ;;
  esac
  shift
done
command -v ab >/dev/null || { echo "bench/broker.sh needs ab (apt-get install apache2-utils)" >&2; exit 1; }
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q
mkdir -p build/lib
ln -sf "$(cd "$TARGET" && pwd)/release/libskynet.so" build/lib/skynet.so
export LUA_CPATH="$PWD/build/lib/?.so;;"
export LUA_PATH="$PWD/lua/?.lua;$PWD/bench/?.lua;;"

out=$(mktemp)
timeout 600 lua5.4 bin/skynet broker_app 0 > "$out" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; rm -f "$out"; }
trap cleanup EXIT INT TERM
i=0
while ! grep -q "handlers ready" "$out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(awk '/works on port/ {print $5; exit}' "$out")
[ -n "$port" ] || { cat "$out" >&2; exit 1; }

echo "INFO $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), ab -c 50 -n $REQUESTS, no keep-alive"
for path in "/bench/hello?name=ab" "/bench/json?name=ab" "/"; do
  report=$(ab -q -c 50 -n "$REQUESTS" -H "Accept: */*" "http://127.0.0.1:$port$path" 2>&1)
  rps=$(echo "$report" | awk '/^Requests per second/ {print $4}')
  failed=$(echo "$report" | awk '/^Failed requests/ {print $3}')
  p99=$(echo "$report" | awk '/^  99%/ {print $2}')
  name=$(echo "$path" | sed 's/?.*//; s|^/$|/index|; s|/|_|g')
  echo "RESULT broker$name $rps req/s"
  echo "INFO broker$name failed=$failed p99=${p99}ms"
done
