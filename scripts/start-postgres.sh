#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the web app's tests; print its URL on stdout.
#   CSEI_TEST_PG_URL=$(bash scripts/start-postgres.sh) python -m pytest tests/web
# Uses Debian's postgresql package (scripts/system-deps.sh installs it). The cluster lives in a
# temporary folder, listens on 127.0.0.1 only, trusts local connections, and is owned by a
# non-root user (initdb refuses root: as root we run it as 'postgres'). Prints nothing and exits 0
# when PostgreSQL is not installed, so the tests that need it skip with a reason.
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "start-postgres: PostgreSQL is not installed; PostgreSQL tests will skip" >&2
  exit 0
fi
port=${CSEI_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
dir=$(mktemp -d /tmp/csei-pg.XXXXXX)
run=()
user=$(id -un)
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
  chown postgres "$dir"
  run=(runuser -u postgres --)
  user=postgres
fi
"${run[@]}" "$bindir/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { echo "start-postgres: initdb failed, see $dir/initdb.log" >&2; exit 1; }
"${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off" start >/dev/null \
  || { echo "start-postgres: server did not start, see $dir/server.log" >&2; exit 1; }
echo "start-postgres: cluster in $dir on port $port (stop: pg_ctl -D $dir/data stop)" >&2
echo "postgresql://$user@127.0.0.1:$port/postgres"
