#!/usr/bin/env bash
# PostgreSQL from the distribution's package, without Docker (used by the outbox relay).
#
#   deploy/local/postgres.sh start|stop|status|dsn
#
# Finds initdb/postgres in PATH or /usr/lib/postgresql/*/bin; installs Debian's package with
# apt when absent and running as root, else says what to install. One cluster under
# $EVENTPIPE_STATE_DIR/postgres, trust auth on loopback, database and role `eventpipe`.
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_DIR="$EVENTPIPE_STATE_DIR/postgres"

# As root the cluster belongs to `postgres`, which must be able to reach its directory. When
# the state directory sits under a private parent (a 0700 home or temp dir), the cluster
# lives in a directory of its own under /var/tmp instead, linked from the state directory.
pg_home() {
    local existing="$EVENTPIPE_STATE_DIR"
    while [[ ! -e "$existing" ]]; do existing="$(dirname "$existing")"; done
    if [[ "$(id -u)" != 0 ]] || runuser -u postgres -- test -x "$existing" 2>/dev/null; then
        echo "$PG_DIR"
    else
        echo "/var/tmp/eventpipe-postgres-$(printf '%s' "$PG_DIR" | md5sum | cut -c1-12)"
    fi
}
PG_HOME="$(pg_home)"
PGDATA="$PG_HOME/data"
LOG="$PG_HOME/postgres.log"
PIDFILE="$PGDATA/postmaster.pid"

pg_bin() {
    local dir
    # Debian keeps the server tools out of PATH; a PATH initdb may be a lone symlink.
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/psql" ]]; then echo "$dir"; return 0; fi
    command -v initdb >/dev/null && dirname "$(readlink -f "$(command -v initdb)")"
}

ensure_installed() {
    pg_bin >/dev/null && return 0
    apt_install postgresql \
        || die 2 "postgres: no PostgreSQL server found; install it (Debian/Ubuntu: apt-get install postgresql) or point EVENTPIPE_POSTGRES_DSN at a running server"
}

# as_owner CMD...: run as the cluster's owner (postgres when we are root).
as_owner() {
    # From /: the caller's directory may be one the postgres user cannot enter.
    if [[ "$(id -u)" == 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pid_running() { [[ -s "$PIDFILE" ]] && kill -0 "$(head -n1 "$PIDFILE")" 2>/dev/null; }

start() {
    if pid_running; then
        say "postgres: already running at $EVENTPIPE_BIND_HOST:$POSTGRES_PORT (pid $(head -n1 "$PIDFILE"))"
        return 0
    fi
    ensure_installed
    require_free_port postgres "$POSTGRES_PORT" EVENTPIPE_POSTGRES_PORT
    local bin; bin="$(pg_bin)"
    mkdir -p "$PG_HOME" "$(dirname "$PG_DIR")"
    [[ "$(id -u)" == 0 ]] && chown postgres: "$PG_HOME"
    [[ "$PG_HOME" != "$PG_DIR" ]] && ln -sfn "$PG_HOME" "$PG_DIR"
    if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
        as_owner "$bin/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$PG_HOME/initdb.log" 2>&1 || { cat "$PG_HOME/initdb.log" >&2; die 1 "postgres: initdb failed"; }
    fi
    as_owner "$bin/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t "$START_TIMEOUT" start \
        -o "-p $POSTGRES_PORT -c listen_addresses=$EVENTPIPE_BIND_HOST -c unix_socket_directories=$PG_HOME -c max_connections=200 -c fsync=${EVENTPIPE_POSTGRES_FSYNC:-on}" \
        >/dev/null || { tail -n 20 "$LOG" >&2; die 1 "postgres: start failed"; }
    local psql=("$bin/psql" -h "$EVENTPIPE_BIND_HOST" -p "$POSTGRES_PORT" -U postgres -d postgres -qtA)
    if [[ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname='eventpipe'")" != 1 ]]; then
        "${psql[@]}" -c "CREATE ROLE eventpipe LOGIN SUPERUSER" >/dev/null
    fi
    if [[ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname='eventpipe'")" != 1 ]]; then
        "${psql[@]}" -c "CREATE DATABASE eventpipe OWNER eventpipe" >/dev/null
    fi
    say "postgres: ready at $EVENTPIPE_BIND_HOST:$POSTGRES_PORT (database eventpipe, pid $(head -n1 "$PIDFILE"), data $PGDATA)"
}

stop() {
    if ! pid_running; then say "postgres: not running"; return 0; fi
    as_owner "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    say "postgres: stopped"
}

status() {
    if pid_running; then say "postgres: running at $EVENTPIPE_BIND_HOST:$POSTGRES_PORT (pid $(head -n1 "$PIDFILE"))"
    else say "postgres: not running"; return 1; fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    dsn) echo "postgresql://eventpipe@$EVENTPIPE_BIND_HOST:$POSTGRES_PORT/eventpipe" ;;
    *) die 64 "usage: $0 start|stop|status|dsn" ;;
esac
