#!/usr/bin/env bash
# TCP echo: 50 connections x 64 B for 10 s (after 1 s of warm-up) from
# bench/loadgen, a Rust client light enough that the server is what a run
# measures, against:
#   ours     bench/tcp_echo.lua (the main script serves every connection)
#   tokio    bench/tokio_echo, a minimal tokio echo server (the reference)
#   cloudwu  with --with-skynet: cloudwu/skynet's echo server
#            (../shared/bench/skynet/tcp_echo_server.lua), built as bench/lib.sh does
# each R times (--runs, default 3), then a table: median [min-max] round trips/s,
# p50/p99 latency, server CPU per round trip, and ours against the others.
# Then the WebSocket echo figure (bench/ws_echo.lua).
#   bench/tcp_echo.sh [--runs R] [--seconds N] [--conns C] [--with-skynet]
# env: SKYNET_SRC / SKYNET_TARBALL / BUILD_ROOT as for bench/run.sh --with-skynet;
#      SKYNET_BENCH_DIR: cloudwu's bench services (default ../shared/bench/skynet).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
RUNS=3; SECS=10; CONNS=50; WITH_SKYNET=0
while [ $# -gt 0 ]; do
	case "$1" in
		--runs) RUNS="$2"; shift 2;;
		--seconds) SECS="$2"; shift 2;;
		--conns) CONNS="$2"; shift 2;;
		--with-skynet) WITH_SKYNET=1; shift;;
		-h|--help) sed -n '2,17p' "$0"; exit 0;;
		*) echo "unknown option $1 (see --help)" >&2; exit 2;;
	esac
done
cd "$REPO"
. "$HERE/lib.sh"
TARGET="$(mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)"
cargo build --release -q || exit 1
mkdir -p build/lib
ln -sf "$TARGET/release/libskynet.so" build/lib/skynet.so
use_module "$REPO"
for tool in loadgen tokio_echo; do
	(cd "$HERE/$tool" && CARGO_TARGET_DIR="$TARGET/$tool" cargo build --release -q) || exit 1
done
LOADGEN="$TARGET/loadgen/release/loadgen"
OUT_DIR="${OUT_DIR:-/tmp/skynet-lua-bench}/tcp_echo"; mkdir -p "$OUT_DIR"
ALL="$OUT_DIR/results.txt"; : > "$ALL"

SERVER=""
stop_server() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; SERVER=""; }
trap stop_server EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# measure NAME PORT CMD...: starts the server (it prints READY when it
# listens on PORT), runs the load generator against it, stops it.
measure() {
	local name="$1" port="$2" out="$OUT_DIR/$1.server.log"; shift 2
	"$@" > "$out" 2>&1 &
	SERVER=$!
	for _ in $(seq 100); do grep -q READY "$out" && break; sleep 0.1; done
	if ! grep -q READY "$out"; then echo "ERROR $name server did not start (see $out)" >&2; stop_server; return; fi
	"$LOADGEN" 127.0.0.1 "$port" --conns "$CONNS" --size 64 --seconds "$SECS" --pid "$SERVER" --name "$name" | tee -a "$ALL"
	stop_server
}

for r in $(seq "$RUNS"); do
	quiet_check "tcp_echo.$r" 0
	port=$(free_port); measure tcp_echo_ours "$port" lua5.4 bench/tcp_echo.lua "$port"
	port=$(free_port); measure tcp_echo_tokio "$port" "$TARGET/tokio_echo/release/tokio_echo" "$port"
	if [ "$WITH_SKYNET" = 1 ]; then
		if [ "$r" = 1 ]; then
			export SKYNET_TARBALL="${SKYNET_TARBALL:-$REPO/../shared/bench/skynet-src.tar.gz}"
			skynet_build 0 || exit 1
		fi
		port=$(free_port)
		SKYNET_ROOT="$BUILD_ROOT/skynet" BENCH_DIR="${SKYNET_BENCH_DIR:-$REPO/../shared/bench/skynet}" \
			BENCH_THREAD="$(nproc)" BENCH_PORT="$port" BENCH_SECONDS=$((SECS + 60)) BENCH_START=tcp_echo_server \
			measure tcp_echo_cloudwu "$port" "$BUILD_ROOT/skynet/skynet" "${SKYNET_BENCH_DIR:-$REPO/../shared/bench/skynet}/config"
	fi
done
COLS=(--col "ours=tcp_echo_ours_{}" --col "tokio=tcp_echo_tokio_{}")
[ "$WITH_SKYNET" = 1 ] && COLS+=(--col "cloudwu=tcp_echo_cloudwu_{}")
echo "TABLE median [min - max] of $RUNS runs; rate in round trips/s, p50/p99 in us, server_cpu in us per round trip"
python3 "$HERE/summary.py" table --rows "rate p50 p99 server_cpu" "${COLS[@]}" --vs tokio "$ALL"
[ "$WITH_SKYNET" = 1 ] && python3 "$HERE/summary.py" table --rows "rate p50 p99 server_cpu" "${COLS[@]}" --vs cloudwu "$ALL"
lua5.4 bench/ws_echo.lua 5
