# Shared by tools/demo.sh and tools/test.sh: packages, build, a copy the postgres user
# can read, and a throwaway cluster. Sourced, not run.
set -euo pipefail
# Every cluster and test instance started from here is UTF8 with the C.UTF-8 locale,
# whatever the caller's environment (initdb takes both from it).
export LC_ALL=C.UTF-8 LANG=C.UTF-8  # LANG too: the TAP modules drop LC_ALL

INAMI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PACKAGES="make gcc postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap postgresql-15-cron
 libxml2-dev libxml2-utils libipc-run-perl libtap-parser-sourcehandler-pgtap-perl
 python3-psycopg python3-matplotlib chromium clang libclang-rt-14-dev"

say() { printf '\n== %s\n' "$*"; }

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "run this as root (it installs packages and runs PostgreSQL as the postgres user)" >&2
		exit 1
	fi
}

# Install the Debian 12 packages that are not there yet.
install_packages() {
	local missing=""
	for p in $PACKAGES; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		say "installing:$missing"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
	fi
}

# INAMI_PGROOT=DIR: build, install and test against a private copy of the system's
# PostgreSQL 15 in DIR (made on first use), so that several checkouts on one machine can
# install and test at once without replacing each other's inami. PostgreSQL finds its
# files relative to its binaries, so the copy works where it is.
use_private_root() {
	[ -n "${INAMI_PGROOT:-}" ] || return 0
	if [ ! -x "$INAMI_PGROOT/usr/lib/postgresql/15/bin/pg_config" ]; then
		say "copying PostgreSQL 15 into $INAMI_PGROOT"
		mkdir -p "$INAMI_PGROOT/usr/lib" "$INAMI_PGROOT/usr/share" "$INAMI_PGROOT/usr/include"
		cp -a /usr/lib/postgresql "$INAMI_PGROOT/usr/lib/"
		cp -a /usr/share/postgresql "$INAMI_PGROOT/usr/share/"
		cp -a /usr/include/postgresql "$INAMI_PGROOT/usr/include/"
		chmod 755 "$INAMI_PGROOT"
	fi
	PG_CONFIG="$INAMI_PGROOT/usr/lib/postgresql/15/bin/pg_config"
}

# Build with warnings as errors and assertions, then install into PostgreSQL.
# INAMI_BUILD=release builds without assertions, as PostgreSQL's packages are built (the
# benchmarks measure that build: assertions change where the time goes).
build_install() {
	local cflags="-DUSE_ASSERT_CHECKING -Wall -Werror"
	[ "${INAMI_BUILD:-}" = release ] && cflags="-Wall -Werror"
	use_private_root
	say "building and installing inami (${INAMI_BUILD:-assertions})"
	make -C "$INAMI_ROOT" -s PG_CONFIG="$PG_CONFIG" clean >/dev/null
	make -C "$INAMI_ROOT" -s PG_CONFIG="$PG_CONFIG" PG_CFLAGS="$cflags"
	make -C "$INAMI_ROOT" -s PG_CONFIG="$PG_CONFIG" install >/dev/null
}

# Copy the tree where the postgres user can read and write it (the clone may be under
# /root); prints the copy's path. The caller removes it.
stage_tree() {
	local dir
	dir=$(mktemp -d /tmp/inami.XXXXXX)
	cp -a "$INAMI_ROOT/." "$dir/"
	chown -R postgres:postgres "$dir"
	chmod 755 "$dir"
	echo "$dir"
}

# A port no cluster of this machine uses, from 54320 up. The clusters started here listen on
# a Unix socket only (listen_addresses = ''), so a TCP probe alone does not see them: a port
# is also taken when a socket lock file names it in a socket directory we know, /tmp/*/sock
# (these tools' clusters, a developer's) or /var/run/postgresql (Debian's). Two clusters on
# one port with different socket directories would still start; distinct ports keep them
# apart for PGPORT, ps and the logs.
port_in_use() {
	local lock
	(echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
	for lock in /tmp/*/sock/.s.PGSQL."$1".lock /var/run/postgresql/.s.PGSQL."$1".lock; do
		[ -e "$lock" ] && return 0
	done
	return 1
}

free_port() {
	local port=54320
	while port_in_use "$port"; do
		port=$((port + 1))
	done
	echo "$port"
}

as_postgres() { (cd / && su postgres -s /bin/bash -c "$*"); }

# Start a throwaway cluster in $1 (data dir) with its socket in $1/sock; sets PGPORT and
# PGHOST. Extra postgresql.conf lines may follow as $2.
start_cluster() {
	local dir=$1 extra=${2:-}
	local bindir
	bindir=$("$PG_CONFIG" --bindir)
	PGPORT=$(free_port)
	PGHOST="$dir/sock"
	export PGPORT PGHOST PGUSER=postgres
	as_postgres "mkdir -p '$dir/sock' && '$bindir/initdb' -D '$dir/data' -A trust -U postgres >'$dir/initdb.log' 2>&1"
	printf "port = %s\nunix_socket_directories = '%s'\nlisten_addresses = ''\n%s\n" \
		"$PGPORT" "$PGHOST" "$extra" >>"$dir/data/postgresql.conf"
	as_postgres "'$bindir/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w start >/dev/null"
}

stop_cluster() {
	local dir=$1
	as_postgres "'$("$PG_CONFIG" --bindir)/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
}

# Everything a run needs from nothing: packages, build and install, a copy of the tree the
# server can read ($work) and a throwaway cluster ($cluster; extra postgresql.conf lines
# as $1). Both are stopped and removed on exit.
setup_throwaway() {
	require_root
	install_packages
	build_install
	work=$(stage_tree)
	cluster=$(mktemp -d /tmp/inami-cluster.XXXXXX)
	chown postgres:postgres "$cluster"
	trap 'stop_cluster "$cluster"; rm -rf "$work" "$cluster"' EXIT
	start_cluster "$cluster" "${1:-}"
}
