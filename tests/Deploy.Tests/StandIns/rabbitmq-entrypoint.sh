#!/bin/sh
# The parts of the official rabbitmq entrypoint the storefront's compose file relies on:
# the default user (applied when the node's database is first created) and remote logins.
set -eu
umask 077
cat >/etc/rabbitmq/rabbitmq.conf <<CONF
loopback_users = none
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
CONF
# Not the /usr/sbin wrapper: it sends the log to a file rather than to docker logs.
exec /usr/lib/rabbitmq/bin/rabbitmq-server
