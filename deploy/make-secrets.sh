#!/bin/sh
# Makes the secrets compose.yaml mounts (docs/deploy-vds.md, step 2): one file per password,
# generated once and kept (write your own into a file to choose it), and each service's connection
# strings built from them. Run it again after changing a password, then `docker compose up -d`.
# Usage: deploy/make-secrets.sh [DIR]   (DIR: deploy/secrets, or SECRETS_DIR in .env)
#
# The folder is for root only (0700); the files in it are 0644 because compose mounts each one
# into a container as it is, and the services run as an unprivileged user.
set -eu
dir=${1:-${SECRETS_DIR:-$(dirname "$0")/secrets}}
mkdir -p "$dir"
chmod 700 "$dir"
umask 022
password() { # NAME [LENGTH]: the password in DIR/NAME, made if missing (letters and digits: safe in URLs)
  if [ ! -s "$dir/$1" ]; then
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "${2:-32}" >"$dir/$1"
  fi
  cat "$dir/$1"
}
file() { printf '%s' "$2" >"$dir/$1"; }

# The servers' own passwords (the AppHost's parameters of the same names).
for name in mysql-password cache-password messaging-password messaging-monitor-password messaging-operator-password \
  mysql-inventoryapi-password mysql-uploadapi-password; do
  password "$name" >/dev/null
done
for service in inventoryapi uploadapi imageworker; do
  password "cache-$service-password" >/dev/null
  password "messaging-$service-password" >/dev/null
  file "$service-cache" "cache:6379,user=$service,password=$(password "cache-$service-password")"
  file "$service-messaging" "amqp://$service:$(password "messaging-$service-password")@messaging:5672"
done
password admin-key 48 >/dev/null

# What the services read (ConnectionStrings__*), each with the service's own user.
file mysql-admin "Server=mysql;Port=3306;User ID=root;Password=$(password mysql-password)"
file inventoryapi-inventorydb "Server=mysql;Port=3306;User ID=inventoryapi;Password=$(password mysql-inventoryapi-password);Database=inventorydb"
file uploadapi-uploaddb "Server=mysql;Port=3306;User ID=uploadapi;Password=$(password mysql-uploadapi-password);Database=uploaddb"
file messaging-monitor "http://monitor:$(password messaging-monitor-password)@messaging:15672/"
file messaging-operator "amqp://operator:$(password messaging-operator-password)@messaging:5672"
echo "Secrets in $dir"
