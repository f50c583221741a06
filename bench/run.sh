#!/usr/bin/env bash
# Run our benchmark workloads (each bench/<name>.lua says what it measures:
# rpc_roundtrip, rpc_concurrent, send_oneway, spawn, spawn_main (spawn from
# the main script), timers), each R times as a fresh lua5.4
# process, and the TCP echo of bench/tcp_echo.sh (R runs, our server and a raw
# tokio one, driven by bench/loadgen); print every RESULT/INFO line and a
# SUMMARY median/min/max per name.
#
# usage: bench/run.sh [--runs R] [--only "rpc_roundtrip spawn ..."] [--threads N]
#                     [--wait-quiet S] [--with-skynet] [--skynet-rebuild] [--busy-core]
#   --runs R          runs per workload (default 3)
#   --only LIST       subset of the workloads (default: all of them and tcp_echo)
#   --threads N       SKYNET_THREADS for ours / --threads for cloudwu/skynet (default nproc)
#   --wait-quiet S    before each run wait up to S s for the machine to be <=15% busy
#   --busy-core       keep the last CPU busy with a shell loop (taskset) for the whole
#                     script, ours and cloudwu's runs alike: how both fare when another
#                     process takes a core
#   --with-skynet     afterwards run the cloudwu/skynet baseline on the same workloads
#                     (../shared/bench/skynet/run.sh from the repo root; its echo server
#                     driven by our load generator) and print one table: both medians
#                     [min-max] side by side with the ratio ours / cloudwu. The skynet tree comes from SKYNET_SRC (a
#                     cloudwu/skynet checkout) or is unpacked from SKYNET_TARBALL
#                     (default ../shared/bench/skynet-src.tar.gz); an existing build in
#                     $BUILD_ROOT/skynet (default /tmp/skynet-bench-build) is reused
#                     unless --skynet-rebuild (bench/lib.sh, shared with
#                     bench/cluster.sh). SKYNET_BENCH_RUN=/path/to/skynet/run.sh if
#                     shared/ is elsewhere; without it --with-skynet just says so and stops.
#
# Which skynet module is used: by default the one built in this repo,
# build/lib/skynet.so (LUA_CPATH="<repo>/build/lib/?.so;;"). To use another one:
#   SKYNET_CPATH="/path/to/dir/?.so" bench/run.sh        # another build
#   SKYNET_CPATH=none bench/run.sh                       # keep the environment's LUA_CPATH,
#        e.g. an installed rock:  eval "$(luarocks path)"; SKYNET_CPATH=none bench/run.sh
# (the entry scripts append ../build/lib as a last fallback only).
# Other env: LUA (interpreter, default lua5.4), OUT_DIR (logs, default /tmp/skynet-lua-bench).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
RUNS=3; THREADS="$(nproc)"; WAITQ=0; WITH_SKYNET=0; REBUILD=0; BUSY=0
ONLY="rpc_roundtrip rpc_concurrent send_oneway spawn spawn_main timers tcp_echo"
while [ $# -gt 0 ]; do
	case "$1" in
		--runs) RUNS="$2"; shift 2;;
		--only) ONLY="$2"; shift 2;;
		--threads) THREADS="$2"; shift 2;;
		--wait-quiet) WAITQ="$2"; shift 2;;
		--with-skynet) WITH_SKYNET=1; shift;;
		--skynet-rebuild) REBUILD=1; shift;;
		--busy-core) BUSY=1; shift;;
		-h|--help) sed -n '2,31p' "$0"; exit 0;;
		*) echo "unknown option $1 (see --help)" >&2; exit 2;;
	esac
done
LUA="${LUA:-lua5.4}"
OUT_DIR="${OUT_DIR:-/tmp/skynet-lua-bench}"; LOG="$OUT_DIR/logs"; mkdir -p "$LOG"
ALL="$LOG/results.txt"; : > "$ALL"
export LUA_PATH="$HERE/?.lua;;"
. "$HERE/lib.sh"
use_module "$REPO"
export SKYNET_THREADS="$THREADS"

describe_ours "$LUA" "$REPO" "$THREADS" "$RUNS" || exit 1
if [ "$BUSY" = 1 ]; then
	HOG_CPU=$(( $(nproc) - 1 ))
	taskset -c "$HOG_CPU" sh -c 'while :; do :; done' &
	HOG=$!
	trap 'kill "$HOG" 2>/dev/null' EXIT
	echo "INFO busy core: a shell loop (pid $HOG) holds CPU $HOG_CPU for the whole script"
fi
SK_RUN="${SKYNET_BENCH_RUN:-$REPO/../shared/bench/skynet/run.sh}"
export SKYNET_TARBALL="${SKYNET_TARBALL:-$(dirname "$SK_RUN")/../skynet-src.tar.gz}"
for w in $ONLY; do
	if [ "$w" = tcp_echo ]; then
		# ours as tcp_echo_*, the raw tokio server as tcp_echo_tokio_*; with
		# --with-skynet cloudwu's too, kept for its column below
		tcp=(--runs "$RUNS"); [ "$WITH_SKYNET" = 1 ] && [ -x "$SK_RUN" ] && tcp+=(--with-skynet)
		OUT_DIR="$OUT_DIR" bash "$HERE/tcp_echo.sh" "${tcp[@]}" > "$LOG/tcp_echo.out" 2>&1 ||
			{ echo "ERROR tcp_echo (see $LOG/tcp_echo.out)" >&2; tail -5 "$LOG/tcp_echo.out" >&2; }
		grep -E '^RESULT tcp_echo_(ours|tokio)_' "$OUT_DIR/tcp_echo/results.txt" | sed 's/^RESULT tcp_echo_ours_/RESULT tcp_echo_/' | tee -a "$ALL"
		continue
	fi
	[ -f "$HERE/$w.lua" ] || { echo "unknown workload $w" >&2; continue; }
	for r in $(seq "$RUNS"); do
		quiet_check "$w.$r" "$WAITQ"
		out="$LOG/$w.$r.log"
		timeout 300 "$LUA" "$HERE/$w.lua" > "$out" 2>&1
		rc=$?
		grep -E '^(RESULT|INFO)' "$out" | tee -a "$ALL"
		[ "$rc" = 0 ] && grep -q '^RESULT' "$out" || { echo "ERROR $w run $r rc=$rc (see $out)" >&2; tail -5 "$out" >&2; }
	done
done
echo "== ours (skynet-lua) =="
python3 "$HERE/summary.py" summary "$ALL" | tee "$LOG/summary.txt"

[ "$WITH_SKYNET" = 1 ] || exit 0
if [ ! -x "$SK_RUN" ]; then
	echo "INFO --with-skynet: shared/bench/skynet/run.sh not found next to the repo; skipping cloudwu/skynet" >&2
	exit 0
fi
skynet_build "$REBUILD" || exit 1
echo "== cloudwu/skynet ($SK_RUN) =="
# its tcp_echo ran above, under our load generator (its own Python client
# saturates a core before either server does)
# (and spawn_main is ours alone: the table sets it beside cloudwu's spawn)
SK_ONLY=$(echo " $ONLY " | sed 's/ tcp_echo / /; s/ spawn_main / /')
"$SK_RUN" "$SKYNET_SRC_DIR" --threads "$THREADS" --runs "$RUNS" --only "$SK_ONLY" --wait-quiet "$WAITQ" --no-build | tee "$LOG/skynet.out"
grep -E '^RESULT tcp_echo_cloudwu_' "$OUT_DIR/tcp_echo/results.txt" 2>/dev/null |
	sed 's/^RESULT tcp_echo_cloudwu_/RESULT tcp_echo_/' >> "$BUILD_ROOT/logs/results.txt"

# side by side: median [min-max]
python3 "$HERE/summary.py" compare "$ALL" "$BUILD_ROOT/logs/results.txt"
