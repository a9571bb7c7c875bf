#!/bin/sh
# RabbitMQ in its official image (container mode and compose) with the storefront's users: writes
# them as definitions (rabbitmq-definitions.sh), which the node imports at every boot, then runs the
# image's own entrypoint. Passwords: the same variables as local mode, or their _FILE forms.
set -eu
definitions=/var/lib/rabbitmq/definitions.json
sh "$(dirname "$0")/rabbitmq-definitions.sh" "$definitions"
if [ "$(id -u)" = 0 ]; then chown rabbitmq:rabbitmq "$definitions"; fi
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS:-} -rabbit load_definitions \"$definitions\""
exec docker-entrypoint.sh rabbitmq-server
