#!/usr/bin/env bash
# Run carapace's whole test suite: every crate's unit tests, the conformance
# suite (tests/conformance/*.c, natively and under each platform), the
# real-program tests and the host-untouched tests; then rustfmt and clippy.
#
# Installs what the tests need when it is missing (as root, with apt-get);
# otherwise says what to install.
#
#   scripts/test.sh             # everything
#   scripts/test.sh --no-lint   # tests only
#   CARAPACE_TEST_TIMEOUT=60 scripts/test.sh   # per-run timeout in seconds (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."

lint=1
for arg in "$@"; do
	case "$arg" in
	--no-lint) lint=0 ;;
	*) echo "usage: $0 [--no-lint]" >&2; exit 2 ;;
	esac
done

# What the tests use from the system, as (check, Debian package) pairs:
# cc and static glibc build the conformance programs; busybox must be the
# static one (it runs alone in a canary rootfs); python3 and setpriv are run
# by the real-program tests.
missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev)
if command -v dpkg-query >/dev/null 2>&1; then
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		missing+=(busybox-static)
else
	[ -x /bin/busybox ] || missing+=(busybox-static)
fi
[ -x /usr/bin/python3 ] || missing+=(python3)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
# The file-system real-program tests run git, sqlite3 and python3 -m venv.
[ -x /usr/bin/git ] || missing+=(git)
[ -x /usr/bin/sqlite3 ] || missing+=(sqlite3)
/usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "test.sh: installing ${missing[*]}" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		echo "test.sh: the tests need these packages: ${missing[*]}" >&2
		echo "test.sh: install them (e.g. sudo apt-get install ${missing[*]}) and run again" >&2
		exit 1
	fi
fi

status=0
# --no-fail-fast: one failing test binary must not hide the others' results.
cargo test --workspace --release --no-fail-fast || status=1

if [ "$lint" = 1 ]; then
	cargo fmt --all --check || { echo "test.sh: cargo fmt --all --check failed" >&2; status=1; }
	cargo clippy --workspace --release --all-targets -- -D warnings ||
		{ echo "test.sh: cargo clippy failed" >&2; status=1; }
fi
exit "$status"
