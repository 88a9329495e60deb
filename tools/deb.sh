#!/usr/bin/env bash
# Build the Debian package postgresql-15-inami from a clean clone of HEAD, the way Debian
# builds its own extension packages (dpkg-buildpackage, pg_buildext), into DIR (default:
# the current directory). With --check, then install it with apt and check on a throwaway
# cluster that it works: CREATE EXTENSION, the update from 0.1.0, the docs and the XSDs.
#   bash tools/deb.sh [--check] [DIR]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_root
check=""
[ "${1:-}" = --check ] && { check=1; shift; }
out=$(cd "${1:-.}" && pwd)
PACKAGES="$PACKAGES git debhelper dpkg-dev postgresql-server-dev-all" install_packages

version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$INAMI_ROOT/inami.control")
debversion=$(dpkg-parsechangelog -l "$INAMI_ROOT/debian/changelog" -S Version)
metaversion=$(sed -n 's/^   "version": "\(.*\)",$/\1/p' "$INAMI_ROOT/META.json")
if [ "${debversion%-*}" != "$version" ] || [ "$metaversion" != "$version" ]; then
	echo "inami.control is at $version, debian/changelog at $debversion, META.json at $metaversion: bring them to one version" >&2
	exit 1
fi

build=$(mktemp -d /tmp/inami-deb.XXXXXX)
trap 'rm -rf "$build"' EXIT
say "building postgresql-15-inami $debversion from a clean clone of HEAD"
git clone -q "$INAMI_ROOT" "$build/inami"
(cd "$build/inami" && dpkg-buildpackage -us -uc -b >"$build/build.log" 2>&1) || { tail -40 "$build/build.log"; exit 1; }
deb=$(ls "$build"/postgresql-15-inami_"$debversion"_*.deb)
cp "$deb" "$out/"
deb="$out/$(basename "$deb")"
echo "$deb"
[ -n "$check" ] || exit 0

say "installing $(basename "$deb") with apt"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
docs=/usr/share/doc/postgresql-doc-15/extension/inami
status=0 n=0
expect() { # what, command...: one TAP line
	local what=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; status=1; fi
}
files=$(dpkg -L postgresql-15-inami)
for f in /usr/lib/postgresql/15/lib/inami.so /usr/share/postgresql/15/extension/inami.control \
	/usr/share/postgresql/15/extension/inami--$version.sql /usr/share/postgresql/15/extension/inami--0.1.0.sql \
	/usr/share/postgresql/15/extension/inami--0.1.0--0.2.0.sql; do
	expect "the package holds $f" grep -qx "$f" <<<"$files"
done
expect "the docs and the schemas are installed in $docs" test -f "$docs/README.md" -a -f "$docs/xsd/syst05.xsd" -a -f "$docs/rules.md"
cluster=$(mktemp -d /tmp/inami-deb-cluster.XXXXXX)
chown postgres:postgres "$cluster"
trap 'stop_cluster "$cluster"; rm -rf "$build" "$cluster"' EXIT
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config start_cluster "$cluster"
q() { as_postgres "PGHOST='$PGHOST' PGPORT=$PGPORT psql -X -At -v ON_ERROR_STOP=1 -d postgres -c \"$1\""; }
expect "CREATE EXTENSION inami gives $version" test "$(q "CREATE EXTENSION inami; SELECT extversion FROM pg_extension WHERE extname = 'inami'" | tail -1)" = "$version"
expect "a rule answers (R2: 36246.38)" test "$(q "SELECT inami.im_plafond(4, 2022)")" = 36246.38
expect "inami.version() is the library of $version" test "$(q "SELECT inami.version()")" = "$version"
expect "0.1.0 updates to $version" test "$(q "DROP EXTENSION inami; CREATE EXTENSION inami VERSION '0.1.0'; ALTER EXTENSION inami UPDATE; SELECT extversion FROM pg_extension WHERE extname = 'inami'" | tail -1)" = "$version"
echo "1..$n"
exit $status
