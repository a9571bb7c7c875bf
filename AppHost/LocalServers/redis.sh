#!/bin/sh
# Redis as a plain child process. Usage: redis.sh DATADIR PORT, with REDIS_PASSWORD set (or
# REDIS_PASSWORD_FILE naming a file that holds it, as compose's secrets do; the same for each user below).
# The configuration goes in on standard input so no password ever shows in `ps`.
#
# Users (docs/security.md): `default` (REDIS_PASSWORD) is the administrator, for set-up and
# operators only. Each service has its own user, limited to its own keys and channels, without
# the dangerous commands (FLUSHALL, KEYS, CONFIG, DEBUG...); a user whose password is unset is off.
#   inventoryapi  keys inventory:*           the product cache and its generation counters
#   uploadapi     channel uploads:status     the status feed's wake-ups (no keys)
#   imageworker   keys imageworker:*         the processing-attempt counters
# __Booksleeve_MasterChanged is StackExchange.Redis's own channel, subscribed on every connection.
set -eu
datadir=$1
port=$2
secret() { # NAME: the value of $NAME, or of the file named by ${NAME}_FILE
  eval "value=\${$1:-}; file=\${$1_FILE:-}"
  if [ -z "$value" ] && [ -n "$file" ]; then value=$(cat "$file"); fi
  printf '%s' "$value"
}
user() { # NAME PASSWORD RULES...
  name=$1 password=$2
  shift 2
  if [ -n "$password" ]; then
    echo "user $name on >$password resetkeys resetchannels &__Booksleeve_MasterChanged $* -@all +@read +@write +@keyspace +@string +@scripting +@pubsub +@connection +@transaction -@dangerous +info +client|setname +client|id"
  else
    echo "user $name off"
  fi
}
# A TLS listener besides the plain port, for workers on other servers (deploy/compose.main-server.yaml):
# REDIS_TLS_PORT with REDIS_TLS_CERT, REDIS_TLS_KEY and REDIS_TLS_CA (files). Clients log in with their user.
tls() {
  if [ -n "${REDIS_TLS_PORT:-}" ]; then
    printf 'tls-port %s\ntls-cert-file %s\ntls-key-file %s\ntls-ca-cert-file %s\ntls-auth-clients no\n' \
      "$REDIS_TLS_PORT" "$REDIS_TLS_CERT" "$REDIS_TLS_KEY" "$REDIS_TLS_CA"
  fi
}
password=$(secret REDIS_PASSWORD)
[ -n "$password" ] || { echo "REDIS_PASSWORD is not set" >&2; exit 64; }
mkdir -p "$datadir"
# Append-only file: what Redis holds (cache, attempt counters) survives a restart.
# maxmemory: the cache cannot grow past it. volatile-lru evicts only keys with a lifetime (every
# cache entry and attempt counter has one); the product generation counters have none, are never
# evicted (one small key per product) and must not be: losing one could serve a stale entry.
# In a container started as root (the official image), drop to its redis user as the image would.
run_as=""
if [ -n "${REDIS_RUN_AS:-}" ] && [ "$(id -u)" = 0 ]; then run_as="gosu $REDIS_RUN_AS"; fi
exec $run_as redis-server - <<CONF
port $port
bind ${REDIS_BIND:-127.0.0.1}
protected-mode yes
dir $datadir
appendonly yes
appendfsync everysec
save ""
maxmemory ${REDIS_MAXMEMORY:-128mb}
maxmemory-policy volatile-lru
user default on >$password ~* &* +@all
$(user inventoryapi "$(secret REDIS_INVENTORYAPI_PASSWORD)" '~inventory:*')
$(user uploadapi "$(secret REDIS_UPLOADAPI_PASSWORD)" '&uploads:status' '~ops:*' '~imageworker:attempts*')
$(user imageworker "$(secret REDIS_IMAGEWORKER_PASSWORD)" '~imageworker:*' '~ops:*')
$(tls)
daemonize no
CONF
