# Sourced by bench/run.sh and bench/cluster.sh (bash): what both need to pick
# our module, watch for other load, and build the cloudwu/skynet they compare against.

# use_module REPO: which skynet module the bench processes load. By default
# REPO/build/lib/skynet.so; SKYNET_CPATH="/dir/?.so" another build; SKYNET_CPATH=none
# keeps the environment's LUA_CPATH (e.g. an installed rock, after `eval "$(luarocks path)"`).
use_module() {
	case "${SKYNET_CPATH:-}" in
		none) ;;
		"") export LUA_CPATH="$1/build/lib/?.so;;";;
		*) export LUA_CPATH="$SKYNET_CPATH;;";;
	esac
}

# describe_ours LUA REPO THREADS RUNS: INFO lines on the machine and the module
# loaded (path, date, hash, version, commit); fails when it cannot be loaded.
describe_ours() {
	local lua="$1" ver mod modreal
	ver=$("$lua" -e 'require "skynet"; io.write(os.version())' 2>/dev/null) ||
		{ echo "cannot load the skynet module (LUA_CPATH=${LUA_CPATH:-})" >&2; return 1; }
	echo "INFO machine: nproc=$(nproc) cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')\" kernel=$(uname -r)"
	mod=$("$lua" -e 'io.write(package.searchpath("skynet", package.cpath) or "?")' 2>/dev/null)
	modreal=$(readlink -f "$mod" 2>/dev/null || echo "$mod")
	echo "INFO ours: module=$mod ($(stat -c '%y' "$modreal" 2>/dev/null | cut -d. -f1), $(sha1sum "$modreal" 2>/dev/null | cut -c1-12))"
	echo "INFO ours: skynet-lua $ver ($("$lua" -v 2>&1 | head -1)) commit=$(git -C "$2" rev-parse --short HEAD 2>/dev/null || echo unknown) threads=$3 runs=$4"
}

busy_pct() { # whole-machine CPU busy % over 1 s
	local a b
	a=$(grep '^cpu ' /proc/stat); sleep 1; b=$(grep '^cpu ' /proc/stat)
	echo "$a $b" | awk '{ for (i = 2; i <= 11; i++) { ta += $i; tb += $(i + 11) }
		ia = $5 + $6; ib = $16 + $17; d = tb - ta; printf "%.0f\n", (d > 0) ? 100 * (d - (ib - ia)) / d : 0 }'
}

# quiet_check LABEL WAIT: an INFO line with the machine's load before a run; waits up
# to WAIT s for it to be <=15% busy, and flags the run with a WARNING when it is not
# (the figures of a shared machine are then low).
quiet_check() {
	local b waited=0
	b=$(busy_pct)
	while [ "$b" -gt 15 ] && [ "$waited" -lt "$2" ]; do sleep 4; waited=$((waited + 5)); b=$(busy_pct); done
	if [ "$b" -gt 15 ]; then
		echo "INFO $1 WARNING: machine was ${b}% busy before this run (other load) - figures may be low"
	else
		echo "INFO $1 machine busy before run: ${b}%"
	fi
}

# skynet_build REBUILD
#   Makes sure $BUILD_ROOT/skynet/skynet exists (BUILD_ROOT defaults to
#   /tmp/skynet-bench-build and is exported). The source tree is SKYNET_SRC (a
#   cloudwu/skynet checkout) or, without it, the source tarball SKYNET_TARBALL
#   unpacked into $BUILD_ROOT/src (once: later runs find it there). An existing build is kept unless REBUILD is 1. Built as
#   cloudwu's Makefile does on Linux, without jemalloc (not vendored in the tarball).
#   Sets SKYNET_SRC_DIR (the tree) and SKYNET_COMMIT (a label); returns 1 with a
#   message on stderr when there is no source or the build fails.
skynet_build() {
	local rebuild="$1" src sk
	export BUILD_ROOT="${BUILD_ROOT:-/tmp/skynet-bench-build}"
	sk="$BUILD_ROOT/skynet"
	src="${SKYNET_SRC:-}"
	if [ -z "$src" ]; then
		src="$BUILD_ROOT/src/skynet"
		if [ ! -f "$src/Makefile" ]; then
			[ -f "${SKYNET_TARBALL:-}" ] || { echo "no cloudwu/skynet source: set SKYNET_SRC or SKYNET_TARBALL" >&2; return 1; }
			mkdir -p "$BUILD_ROOT/src" && tar -xzf "$SKYNET_TARBALL" -C "$BUILD_ROOT/src" ||
				{ echo "cannot unpack $SKYNET_TARBALL" >&2; return 1; }
			# the label of later runs, which find the tree unpacked
			echo "$(basename "$SKYNET_TARBALL") sha1 $(sha1sum "$SKYNET_TARBALL" | cut -c1-12)" > "$BUILD_ROOT/src/origin"
		fi
		export SKYNET_COMMIT="${SKYNET_COMMIT:-$(cat "$BUILD_ROOT/src/origin" 2>/dev/null || echo "$src")}"
	else
		export SKYNET_COMMIT="${SKYNET_COMMIT:-$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)}"
	fi
	SKYNET_SRC_DIR="$src"
	[ "$rebuild" != 1 ] && [ -x "$sk/skynet" ] && return 0
	mkdir -p "$BUILD_ROOT/logs"
	rm -rf "$sk"; mkdir -p "$sk"
	( cd "$src" && tar --exclude=.git -cf - . ) | ( cd "$sk" && tar -xf - )
	echo "INFO building cloudwu/skynet $SKYNET_COMMIT in $sk" >&2
	( cd "$sk" && make cleanall ) > "$BUILD_ROOT/logs/clean.log" 2>&1 || true	# drop outputs copied from the source
	if ! ( cd "$sk" && timeout 900 make linux MALLOC_STATICLIB= SKYNET_DEFINES=-DNOUSE_JEMALLOC -j"$(nproc)" ) \
		> "$BUILD_ROOT/logs/build.log" 2>&1; then
		echo "cloudwu/skynet build failed, see $BUILD_ROOT/logs/build.log" >&2
		tail -20 "$BUILD_ROOT/logs/build.log" >&2
		return 1
	fi
}
