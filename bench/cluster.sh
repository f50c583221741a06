#!/usr/bin/env bash
# Cluster rpc between two processes on loopback, ours next to cloudwu/skynet's
# cluster, in one run. R times each, alternating:
#   ours     bench/cluster.lua: within one process, the mesh (keyless, with a key,
#            with the key over mutual TLS) and, when nats-server is on PATH, NATS
#   cloudwu  bench/skynet_cluster/: node B (echo and sink, cluster.register +
#            cluster.open) and node A (cluster.call / cluster.send to them), two
#            cloudwu/skynet processes meeting through a clustername file made here
# on the same workloads: roundtrip (20,000 sequential calls), concurrent (50,000
# calls, 64 in flight), oneway (200,000 one-way messages, timed until handled).
# Then the SUMMARY of every figure and one table: median [min - max] calls/s of
# ours (mesh keyless), ours (NATS) and cloudwu, with the ratios ours / cloudwu.
#
# usage: bench/cluster.sh [--runs R] [--threads N] [--wait-quiet S] [--skynet-rebuild]
#   --runs R          runs of each side (default 3)
#   --threads N       SKYNET_THREADS for ours, `thread` of both cloudwu nodes (default nproc)
#   --wait-quiet S    before each run wait up to S s for the machine to be <=15% busy
#   --skynet-rebuild  rebuild cloudwu/skynet even if $BUILD_ROOT/skynet has a build
# env: SKYNET_CPATH (which module of ours, as bench/run.sh), SKYNET_SRC, SKYNET_TARBALL,
#      BUILD_ROOT (the cloudwu/skynet source and build, see bench/lib.sh), LUA
#      (default lua5.4), OUT_DIR (logs, default /tmp/skynet-lua-bench/cluster).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
RUNS=3; THREADS="$(nproc)"; WAITQ=0; REBUILD=0
while [ $# -gt 0 ]; do
	case "$1" in
		--runs) RUNS="$2"; shift 2;;
		--threads) THREADS="$2"; shift 2;;
		--wait-quiet) WAITQ="$2"; shift 2;;
		--skynet-rebuild) REBUILD=1; shift;;
		-h|--help) sed -n '2,21p' "$0"; exit 0;;
		*) echo "unknown option $1 (see --help)" >&2; exit 2;;
	esac
done
LUA="${LUA:-lua5.4}"
LOG="${OUT_DIR:-/tmp/skynet-lua-bench/cluster}"; mkdir -p "$LOG"
OURS="$LOG/ours.txt"; CLOUDWU="$LOG/cloudwu.txt"; : > "$OURS"; : > "$CLOUDWU"
. "$HERE/lib.sh"
use_module "$REPO"
export SKYNET_THREADS="$THREADS"
describe_ours "$LUA" "$REPO" "$THREADS" "$RUNS" || exit 1
skynet_build "$REBUILD" || exit 1
echo "INFO cloudwu/skynet $SKYNET_COMMIT, build $BUILD_ROOT/skynet, thread=$THREADS per node"

NODE_B=""
trap '[ -n "$NODE_B" ] && kill "$NODE_B" 2>/dev/null' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# -k: a process still there 10 s after the TERM of its timeout is killed
run_ours() { # run
	local out="$LOG/ours.$1.log" rc
	timeout -k 10 600 "$LUA" "$HERE/cluster.lua" > "$out" 2>&1
	rc=$?
	grep -E '^(RESULT|INFO)' "$out" | tee -a "$OURS"
	[ "$rc" = 0 ] || { echo "ERROR ours run $1 rc=$rc (see $out)" >&2; tail -5 "$out" >&2; }
}

# Both nodes run bench/skynet_cluster/config; the environment says which is which.
run_cloudwu() { # run
	local dir="$LOG/cloudwu.$1" rc
	mkdir -p "$dir"
	# node B listens on the address given to its name; node A only connects
	printf '__nowaiting = true\nbench_b = "127.0.0.1:%s"\n' "$(free_port)" > "$dir/clustername"
	export SKYNET_ROOT="$BUILD_ROOT/skynet" CB_DIR="$HERE/skynet_cluster" CB_THREADS="$THREADS" \
		CB_CLUSTERNAME="$dir/clustername"
	CB_START=node_b timeout -k 10 600 "$SKYNET_ROOT/skynet" "$CB_DIR/config" > "$dir/node_b.log" 2>&1 &
	NODE_B=$!
	for _ in $(seq 100); do
		grep -q '^READY' "$dir/node_b.log" && break
		kill -0 "$NODE_B" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q '^READY' "$dir/node_b.log"; then
		CB_START=node_a timeout -k 10 300 "$SKYNET_ROOT/skynet" "$CB_DIR/config" > "$dir/node_a.log" 2>&1
		rc=$?
		grep -E '^(RESULT|INFO)' "$dir/node_a.log" | tee -a "$CLOUDWU"
		[ "$rc" = 0 ] && [ "$(grep -c '^RESULT' "$dir/node_a.log")" = 3 ] ||
			{ echo "ERROR cloudwu run $1 rc=$rc (see $dir/node_a.log)" >&2; grep -E 'ERROR|error' "$dir/node_a.log" | tail -5 >&2; }
	else
		echo "ERROR cloudwu node B did not start (see $dir/node_b.log)" >&2
	fi
	kill "$NODE_B" 2>/dev/null	# timeout passes the TERM on to node B
	wait "$NODE_B" 2>/dev/null
	NODE_B=""
}

for r in $(seq "$RUNS"); do
	quiet_check "ours.$r" "$WAITQ" | tee -a "$OURS"
	run_ours "$r"
	quiet_check "cloudwu.$r" "$WAITQ" | tee -a "$CLOUDWU"
	run_cloudwu "$r"
done
echo "== ours (skynet-lua) =="
python3 "$HERE/summary.py" summary "$OURS"
echo "== cloudwu/skynet =="
python3 "$HERE/summary.py" summary "$CLOUDWU"
echo "== side by side: calls/s, median [min - max] of $RUNS runs; ratio of the medians =="
python3 "$HERE/summary.py" table --rows "roundtrip concurrent oneway" \
	--col "ours mesh=cluster_{}_remote" --col "ours NATS=cluster_{}_nats" --col "cloudwu=cluster_{}_cloudwu" \
	--vs cloudwu "$OURS" "$CLOUDWU" | tee "$LOG/table.txt"
