#!/bin/sh
# Writes the broker's users and permissions as a definitions file (OUTPUT), which RabbitMQ imports at
# every boot (load_definitions): the users exist before the first client can connect, and a changed
# password takes effect at the next start. Usage: rabbitmq-definitions.sh OUTPUT.
# Passwords come from RABBITMQ_PASSWORD (the administrator, RABBITMQ_USER) and
# RABBITMQ_<SERVICE>_PASSWORD, or from the file named by the same name plus _FILE (compose's
# secrets); a service whose password is unset gets no user. Only salted hashes are written.
#
# The administrator is for set-up, health checks and the management UI only. Each service may
# configure, write and read only the exchanges and queues of its own MassTransit topology
# (docs/security.md): its receive endpoints (queue, exchange of the same name, _error and _skipped)
# and the message-type exchanges (Reference.Contracts:<Message>) it publishes or consumes.
# `monitor` (tag monitoring) reads the queues' figures through the management API and touches nothing.
# `operator` is the jobs console's hand on the _error queues (UploadApi/Operations): it reads (takes and
# purges) every service's _error queue and publishes only through the default exchange, which routes
# by queue name, straight back to the queue a message failed in. It can declare, bind or delete nothing.
set -eu
output=$1
secret() { # NAME: the value of $NAME, or of the file named by ${NAME}_FILE
  eval "value=\${$1:-}; file=\${$1_FILE:-}"
  if [ -z "$value" ] && [ -n "$file" ]; then value=$(cat "$file"); fi
  printf '%s' "$value"
}
hash() { # RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password))
  openssl rand -out "$output.salt" 4
  { cat "$output.salt"; printf '%s' "$1"; } | openssl dgst -sha256 -binary >"$output.digest"
  cat "$output.salt" "$output.digest" | openssl base64 -A
  rm -f "$output.salt" "$output.digest"
}
users="" permissions=""
add() { # NAME PASSWORD-VARIABLE TAGS CONFIGURE WRITE READ
  password=$(secret "$2")
  [ -n "$password" ] || return 0
  users="$users${users:+,}
    {\"name\": \"$1\", \"password_hash\": \"$(hash "$password")\", \"hashing_algorithm\": \"rabbit_password_hashing_sha256\", \"tags\": \"$3\"}"
  permissions="$permissions${permissions:+,}
    {\"user\": \"$1\", \"vhost\": \"/\", \"configure\": \"$4\", \"write\": \"$5\", \"read\": \"$6\"}"
}

# Regular expressions, with the backslashes JSON needs.
contracts='Reference\\.Contracts'
# A fault (Fault<ImageUploaded>) is published to its own exchange, bound on to MassTransit:Fault.
fault="MassTransit:Fault--$contracts:ImageUploaded--"
worker_consumes="image-(uploaded|webp)(_error|_skipped)?|$contracts:(ImageUploaded|ImageProcessed)|$fault"
worker_publishes="$contracts:(ImageProcessingStarted|ImageProcessed|ImageProcessingFailed)|MassTransit:Fault"
upload_consumes="upload-api-[a-z-]+(_error|_skipped)?|$contracts:(ImageProcessingStarted|ImageProcessed|ImageProcessingFailed|ImageDeleted)|$fault|MassTransit:Fault"
# UploadApi also declares the workers' queue (UploadApi/Infrastructure/ImageUploadedTopology.cs) but may not
# read it; binding it to the ImageUploaded exchange takes read on that exchange (not on any queue).
upload_publishes="$contracts:ImageUploaded|image-uploaded"
upload_consumes="$upload_consumes|$contracts:ImageUploaded"
inventory_consumes="inventory-[a-z-]+(_error|_skipped)?|$contracts:ImageProcessed"
inventory_publishes="$contracts:(OrderPlaced|OrderPaid|OrderCancelled|ImageDeleted)"

umask 077
add "${RABBITMQ_USER:?RABBITMQ_USER is not set}" RABBITMQ_PASSWORD administrator '.*' '.*' '.*'
[ -n "$users" ] || { echo "RABBITMQ_PASSWORD is not set" >&2; exit 64; }
add imageworker RABBITMQ_IMAGEWORKER_PASSWORD "" \
  "^($worker_consumes|$worker_publishes)\$" "^($worker_consumes|$worker_publishes)\$" "^($worker_consumes)\$"
add uploadapi RABBITMQ_UPLOADAPI_PASSWORD "" \
  "^($upload_consumes|$upload_publishes)\$" "^($upload_consumes|$upload_publishes)\$" "^($upload_consumes)\$"
add inventoryapi RABBITMQ_INVENTORYAPI_PASSWORD "" \
  "^($inventory_consumes|$inventory_publishes)\$" "^($inventory_consumes|$inventory_publishes)\$" "^($inventory_consumes)\$"
add monitor RABBITMQ_MONITOR_PASSWORD monitoring '^$' '^$' '^$'
add operator RABBITMQ_OPERATOR_PASSWORD "" '^$' '^amq\\.default$' '^.+_error$'

cat >"$output" <<JSON
{
  "vhosts": [{"name": "/"}],
  "users": [$users
  ],
  "permissions": [$permissions
  ]
}
JSON
