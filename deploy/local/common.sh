# shellcheck shell=bash
# Shared settings for the local (Docker-free) service scripts.
#
# Every knob is an environment variable with a safe default; docs/configuration.md lists
# them. Sourced by kafka.sh, clickhouse.sh, postgres.sh and services.sh; never run alone.

set -euo pipefail

EVENTPIPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EVENTPIPE_STATE_DIR="${EVENTPIPE_STATE_DIR:-$EVENTPIPE_ROOT/.state}"
EVENTPIPE_CACHE_DIR="${EVENTPIPE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/eventpipe}"
EVENTPIPE_BIND_HOST="${EVENTPIPE_BIND_HOST:-127.0.0.1}"

KAFKA_VERSION="${EVENTPIPE_KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${EVENTPIPE_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${EVENTPIPE_KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP="${EVENTPIPE_KAFKA_HEAP:-1g}"

CLICKHOUSE_PORT="${EVENTPIPE_CLICKHOUSE_PORT:-19000}"
CLICKHOUSE_HTTP_PORT="${EVENTPIPE_CLICKHOUSE_HTTP_PORT:-18123}"

POSTGRES_PORT="${EVENTPIPE_POSTGRES_PORT:-15432}"

START_TIMEOUT="${EVENTPIPE_START_TIMEOUT:-90}"

say() { printf '%s\n' "$*" >&2; }
die() { local code="$1"; shift; say "$*"; exit "$code"; }

# port_open PORT -> true when something accepts TCP connections on the bind host.
port_open() { (exec 3<>"/dev/tcp/$EVENTPIPE_BIND_HOST/$1") 2>/dev/null; }

# pid_alive PIDFILE -> true when the file names a running process.
pid_alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# require_free_port NAME PORT
require_free_port() {
    if port_open "$2"; then
        die 3 "$1: port $EVENTPIPE_BIND_HOST:$2 is already taken by another process; set ${3:-the port variable} to a free port"
    fi
}

# stop_pid NAME PIDFILE: SIGTERM, wait up to 30 s, then SIGKILL. Idempotent.
stop_pid() {
    local name="$1" pidfile="$2" pid
    if ! pid_alive "$pidfile"; then
        rm -f "$pidfile"
        say "$name: not running"
        return 0
    fi
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "$name: still running after 30 s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    say "$name: stopped (pid $pid)"
}

# wait_until NAME PIDFILE LOGFILE CHECK...: poll CHECK until it succeeds, the process dies,
# or START_TIMEOUT passes.
wait_until() {
    local name="$1" pidfile="$2" log="$3"; shift 3
    local deadline=$((SECONDS + START_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if ! pid_alive "$pidfile"; then
            say "$name: exited during start; last lines of $log:"
            tail -n 20 "$log" >&2 || true
            return 1
        fi
        if ((SECONDS >= deadline)); then
            say "$name: not ready after ${START_TIMEOUT}s; see $log"
            return 1
        fi
        sleep 0.5
    done
}

# as_root CMD...: run as root, directly or through sudo; fails when neither is possible.
as_root() {
    if [[ "$(id -u)" == 0 ]]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
    else return 1
    fi
}

# apt_install PKG...: install Debian packages when we can, else explain what to install.
apt_install() {
    if command -v apt-get >/dev/null && as_root true; then
        say "installing $* with apt-get (one time)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else
        return 1
    fi
}
