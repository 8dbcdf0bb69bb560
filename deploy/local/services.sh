#!/usr/bin/env bash
# Start or stop every backing service the pipeline needs, without Docker.
#
#   deploy/local/services.sh up|down|status|env
#
# `up` is idempotent: services already running are left alone. EVENTPIPE_SERVICES chooses
# which to manage (default "kafka clickhouse postgres"). `env` prints the endpoints as
# environment variables the Python services and tests read.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
HERE="$(dirname "${BASH_SOURCE[0]}")"
SERVICES="${EVENTPIPE_SERVICES:-kafka clickhouse postgres}"

case "${1:-}" in
    up)
        for s in $SERVICES; do "$HERE/$s.sh" start; done ;;
    down)
        rc=0
        for s in $(echo "$SERVICES" | tr ' ' '\n' | tac); do "$HERE/$s.sh" stop || rc=$?; done
        exit "$rc" ;;
    status)
        rc=0
        for s in $SERVICES; do "$HERE/$s.sh" status || rc=1; done
        exit "$rc" ;;
    env)
        echo "EVENTPIPE_KAFKA_BOOTSTRAP=$EVENTPIPE_BIND_HOST:$KAFKA_PORT"
        echo "EVENTPIPE_CLICKHOUSE_URL=clickhouse://default@$EVENTPIPE_BIND_HOST:$CLICKHOUSE_PORT/default"
        echo "EVENTPIPE_POSTGRES_DSN=postgresql://eventpipe@$EVENTPIPE_BIND_HOST:$POSTGRES_PORT/eventpipe" ;;
    *) die 64 "usage: $0 up|down|status|env" ;;
esac
