# Sourced by bench/run.sh and bench/cluster.sh (bash): the cloudwu/skynet build
# both compare against, made once under $BUILD_ROOT and reused.
#
# skynet_build REPO REBUILD
#   Makes sure $BUILD_ROOT/skynet/skynet exists (BUILD_ROOT defaults to
#   /tmp/skynet-bench-build and is exported). The source tree is SKYNET_SRC (a
#   cloudwu/skynet checkout) or, without it, SKYNET_TARBALL (default
#   REPO/../shared/bench/skynet-src.tar.gz, cloudwu/skynet f19d1605) unpacked into
#   $BUILD_ROOT/src. An existing build is kept unless REBUILD is 1. Built as
#   cloudwu's Makefile does on Linux, without jemalloc (not vendored in the tarball).
#   Sets SKYNET_SRC_DIR (the tree) and SKYNET_COMMIT (a label); returns 1 with a
#   message on stderr when there is no source or the build fails.
skynet_build() {
	local repo="$1" rebuild="$2" src sk
	export BUILD_ROOT="${BUILD_ROOT:-/tmp/skynet-bench-build}"
	sk="$BUILD_ROOT/skynet"
	src="${SKYNET_SRC:-}"
	if [ -z "$src" ]; then
		src="$BUILD_ROOT/src/skynet"
		local tarball="${SKYNET_TARBALL:-$repo/../shared/bench/skynet-src.tar.gz}"
		if [ ! -f "$src/Makefile" ]; then
			[ -f "$tarball" ] || { echo "no cloudwu/skynet source: set SKYNET_SRC or SKYNET_TARBALL" >&2; return 1; }
			mkdir -p "$BUILD_ROOT/src" && tar -xzf "$tarball" -C "$BUILD_ROOT/src" ||
				{ echo "cannot unpack $tarball" >&2; return 1; }
		fi
		export SKYNET_COMMIT="${SKYNET_COMMIT:-f19d1605 ($(basename "$tarball"))}"
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
