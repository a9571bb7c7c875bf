#!/bin/sh
# RabbitMQ as a plain child process, run as the current user with its own folders.
# Usage: rabbitmq.sh DATADIR NODENAME AMQP_PORT DIST_PORT MANAGEMENT_PORT (0 = no management UI),
# with RABBITMQ_USER and RABBITMQ_PASSWORD set (the administrator) and the services' passwords
# (rabbitmq-definitions.sh).
set -eu
datadir=$1
node=$2
amqp=$3
dist=$4
management=$5
: "${RABBITMQ_USER:?RABBITMQ_USER is not set}"
: "${RABBITMQ_PASSWORD:?RABBITMQ_PASSWORD is not set}"
mkdir -p "$datadir/mnesia" "$datadir/log"
umask 077
# The users and their permissions (rabbitmq-definitions.sh), imported at every boot.
sh "$(dirname "$0")/rabbitmq-definitions.sh" "$datadir/definitions.json"
cat >"$datadir/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$amqp
load_definitions = $datadir/definitions.json
CONF
if [ "$management" != 0 ]; then
  printf 'management.tcp.port = %s\nmanagement.tcp.ip = 127.0.0.1\n' "$management" >>"$datadir/rabbitmq.conf"
  echo '[rabbitmq_management].' >"$datadir/enabled_plugins"
else
  echo '[].' >"$datadir/enabled_plugins"
fi
export HOME="$datadir" RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_NODE_PORT="$amqp" RABBITMQ_DIST_PORT="$dist" \
  RABBITMQ_MNESIA_BASE="$datadir/mnesia" RABBITMQ_LOG_BASE="$datadir/log" RABBITMQ_LOGS=- \
  RABBITMQ_FEATURE_FLAGS_FILE="$datadir/feature_flags" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$datadir/enabled_plugins" RABBITMQ_CONFIG_FILE="$datadir/rabbitmq" \
  ERL_EPMD_ADDRESS=127.0.0.1 ERL_CRASH_DUMP="$datadir/log/erl_crash.dump" \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
/usr/lib/rabbitmq/bin/rabbitmq-server &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; exit 0' TERM INT
wait "$pid" || true
# rabbitmq-server exits 0 even when its VM was killed (it ends in `wait ... || true`), so the
# supervisor would take a crash for a clean stop: a broker that ends without being asked to has crashed.
echo "rabbitmq-server ended without a stop request" >&2
exit 70
