#!/bin/sh
# TCP echo, 50 connections x 64 B for 10 s (../shared/bench/echo_client.py),
# against: our server (bench/tcp_echo.lua), a minimal tokio echo server
# (bench/tokio_echo, the ceiling) and, with --with-skynet, cloudwu/skynet's
# (../shared/bench/skynet/run.sh --only tcp_echo). Then the WebSocket echo figure.
#   bench/tcp_echo.sh [--with-skynet] [--seconds N]
set -e
cd "$(dirname "$0")/.."
SECONDS_RUN=10
WITH_SKYNET=0
while [ $# -gt 0 ]; do
  case "$1" in
    --with-skynet) WITH_SKYNET=1 ;;
    --seconds) shift; SECONDS_RUN=$1 ;;
  esac
  shift
done
CLIENT=../shared/bench/echo_client.py
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q
mkdir -p build/lib
ln -sf "$(cd "$TARGET" && pwd)/release/libskynet.so" build/lib/skynet.so
export LUA_CPATH="$PWD/build/lib/?.so;;"
(cd bench/tokio_echo && CARGO_TARGET_DIR="$(cd ../.. && cd "$TARGET" && pwd)/tokio_echo" cargo build --release -q --offline)
TOKIO_BIN="$(cd "$TARGET" && pwd)/tokio_echo/release/tokio_echo"

PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

# run_server NAME CMD...: starts it, waits for "READY name port", runs the client.
run_server() {
  name=$1; shift
  out=$(mktemp)
  "$@" > "$out" 2>&1 &
  pid=$!
  PIDS="$PIDS $pid"
  i=0
  while ! grep -q READY "$out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  port=$(awk '/READY/ {print $3; exit}' "$out")
  python3 "$CLIENT" 127.0.0.1 "$port" --conns 50 --size 64 --seconds "$SECONDS_RUN" --name "$name"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$out"
}

run_server tcp_echo_ours lua5.4 bench/tcp_echo.lua 0
run_server tcp_echo_tokio "$TOKIO_BIN" 0
if [ "$WITH_SKYNET" = 1 ]; then
  ../shared/bench/skynet/run.sh --only tcp_echo
else
  echo "INFO cloudwu/skynet tcp_echo (../shared/bench/README.md): 55693 rt/s (run with --with-skynet to measure)"
fi
lua5.4 bench/ws_echo.lua 5
