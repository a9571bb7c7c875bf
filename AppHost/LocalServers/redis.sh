#!/bin/sh
# Redis as a plain child process. Usage: redis.sh DATADIR PORT, with REDIS_PASSWORD set.
# The configuration goes in on standard input so the password never shows in `ps`.
set -eu
datadir=$1
port=$2
: "${REDIS_PASSWORD:?REDIS_PASSWORD is not set}"
mkdir -p "$datadir"
# Append-only file: what Redis holds (cache, idempotency and attempt counters) survives a restart.
exec redis-server - <<CONF
port $port
bind 127.0.0.1
protected-mode yes
dir $datadir
appendonly yes
appendfsync everysec
save ""
requirepass $REDIS_PASSWORD
daemonize no
CONF
