#!/usr/bin/env bash
# Run our benchmark workloads a-e of shared/bench/README.md (rpc_roundtrip,
# rpc_concurrent, send_oneway, spawn, timers), each R times as a fresh lua5.4
# process, print every RESULT/INFO line and a SUMMARY median/min/max per name.
#
# usage: bench/run.sh [--runs R] [--only "rpc_roundtrip spawn ..."] [--threads N]
#                     [--wait-quiet S] [--with-skynet] [--skynet-rebuild]
#   --runs R          runs per workload (default 3)
#   --only LIST       subset of the workloads (default: all five)
#   --threads N       SKYNET_THREADS for ours / --threads for cloudwu/skynet (default nproc)
#   --wait-quiet S    before each run wait up to S s for the machine to be <=15% busy
#   --with-skynet     afterwards run the cloudwu/skynet baseline on the same workloads
#                     (../shared/bench/skynet/run.sh from the repo root) and print both
#                     summaries side by side. The skynet tree comes from SKYNET_SRC (a
#                     cloudwu/skynet checkout) or is unpacked from SKYNET_TARBALL
#                     (default ../shared/bench/skynet-src.tar.gz); an existing build in
#                     $BUILD_ROOT/skynet (default /tmp/skynet-bench-build) is reused
#                     unless --skynet-rebuild (bench/skynet_build.sh, shared with
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
RUNS=3; THREADS="$(nproc)"; WAITQ=0; WITH_SKYNET=0; REBUILD=0
ONLY="rpc_roundtrip rpc_concurrent send_oneway spawn timers"
while [ $# -gt 0 ]; do
	case "$1" in
		--runs) RUNS="$2"; shift 2;;
		--only) ONLY="$2"; shift 2;;
		--threads) THREADS="$2"; shift 2;;
		--wait-quiet) WAITQ="$2"; shift 2;;
		--with-skynet) WITH_SKYNET=1; shift;;
		--skynet-rebuild) REBUILD=1; shift;;
		-h|--help) sed -n '2,28p' "$0"; exit 0;;
		*) echo "unknown option $1 (see --help)" >&2; exit 2;;
	esac
done
LUA="${LUA:-lua5.4}"
OUT_DIR="${OUT_DIR:-/tmp/skynet-lua-bench}"; LOG="$OUT_DIR/logs"; mkdir -p "$LOG"
ALL="$LOG/results.txt"; : > "$ALL"
export LUA_PATH="$HERE/?.lua;;"
case "${SKYNET_CPATH:-}" in
	none) ;;
	"") export LUA_CPATH="$REPO/build/lib/?.so;;";;
	*) export LUA_CPATH="$SKYNET_CPATH;;";;
esac
export SKYNET_THREADS="$THREADS"

busy_pct() { # whole-machine CPU busy % over 1 s (as shared/bench/skynet/run.sh)
	local a b
	a=$(grep '^cpu ' /proc/stat); sleep 1; b=$(grep '^cpu ' /proc/stat)
	echo "$a $b" | awk '{ for (i = 2; i <= 11; i++) { ta += $i; tb += $(i + 11) }
		ia = $5 + $6; ib = $16 + $17; d = tb - ta; printf "%.0f\n", (d > 0) ? 100 * (d - (ib - ia)) / d : 0 }'
}
quiet_check() {
	local b waited=0
	b=$(busy_pct)
	while [ "$b" -gt 15 ] && [ "$waited" -lt "$WAITQ" ]; do sleep 4; waited=$((waited + 5)); b=$(busy_pct); done
	if [ "$b" -gt 15 ]; then
		echo "INFO $1 WARNING: machine was ${b}% busy before this run (other load) - figures may be low"
	else
		echo "INFO $1 machine busy before run: ${b}%"
	fi
}
summary() { python3 "$HERE/summary.py" summary "$1"; }	# results-file -> SUMMARY lines

ver=$("$LUA" -e 'require "skynet"; io.write(os.version())' 2>/dev/null) || { echo "cannot load the skynet module (LUA_CPATH=${LUA_CPATH:-})" >&2; exit 1; }
echo "INFO machine: nproc=$(nproc) cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')\" kernel=$(uname -r)"
mod=$("$LUA" -e 'io.write(package.searchpath("skynet", package.cpath) or "?")' 2>/dev/null)
modreal=$(readlink -f "$mod" 2>/dev/null || echo "$mod")
echo "INFO ours: module=$mod ($(stat -c '%y' "$modreal" 2>/dev/null | cut -d. -f1), $(sha1sum "$modreal" 2>/dev/null | cut -c1-12))"
echo "INFO ours: skynet-lua $ver ($("$LUA" -v 2>&1 | head -1)) commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown) threads=$THREADS runs=$RUNS"
for w in $ONLY; do
	[ -f "$HERE/$w.lua" ] || { echo "unknown workload $w" >&2; continue; }
	for r in $(seq "$RUNS"); do
		quiet_check "$w.$r"
		out="$LOG/$w.$r.log"
		timeout 300 "$LUA" "$HERE/$w.lua" > "$out" 2>&1
		rc=$?
		grep -E '^(RESULT|INFO)' "$out" | tee -a "$ALL"
		[ "$rc" = 0 ] && grep -q '^RESULT' "$out" || { echo "ERROR $w run $r rc=$rc (see $out)" >&2; tail -5 "$out" >&2; }
	done
done
echo "== ours (skynet-lua) =="
summary "$ALL" | tee "$LOG/summary.txt"

[ "$WITH_SKYNET" = 1 ] || exit 0
SK_RUN="${SKYNET_BENCH_RUN:-$REPO/../shared/bench/skynet/run.sh}"
if [ ! -x "$SK_RUN" ]; then
	echo "INFO --with-skynet: shared/bench/skynet/run.sh not found next to the repo; skipping cloudwu/skynet" >&2
	exit 0
fi
. "$HERE/skynet_build.sh"
export SKYNET_TARBALL="${SKYNET_TARBALL:-$(dirname "$SK_RUN")/../skynet-src.tar.gz}"
skynet_build "$REPO" "$REBUILD" || exit 1
echo "== cloudwu/skynet ($SK_RUN) =="
"$SK_RUN" "$SKYNET_SRC_DIR" --threads "$THREADS" --runs "$RUNS" --only "$ONLY" --wait-quiet "$WAITQ" --no-build | tee "$LOG/skynet.out"

# side by side: median [min-max]
python3 "$HERE/summary.py" compare "$ALL" "$BUILD_ROOT/logs/results.txt"
