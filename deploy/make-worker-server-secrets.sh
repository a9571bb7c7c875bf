#!/bin/sh
# The secrets for workers on other servers (docs/deploy-vds.md, "Add a worker server"), next to the ones
# make-secrets.sh made (run that first): a private CA and a certificate for this server's broker and Redis TLS
# listeners, the S3 server's keys, and in DIR/worker-server/ the files to copy to every worker server.
# Usage: deploy/make-worker-server-secrets.sh DIR MAIN_SERVER_ADDRESS
#   MAIN_SERVER_ADDRESS: this server's address on the private network (an IP or a DNS name), which the
#   workers connect to and the certificate names. Made once and kept; delete a file to make it again.
set -eu
dir=$1
main=$2
[ -s "$dir/messaging-imageworker-password" ] || { echo "Run make-secrets.sh $dir first." >&2; exit 64; }
umask 022
password() { # NAME [LENGTH], as in make-secrets.sh
  if [ ! -s "$dir/$1" ]; then
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "${2:-32}" >"$dir/$1"
  fi
  cat "$dir/$1"
}

# The S3 server's keys (MinIO's root user; the services use them as Storage__S3__AccessKey/SecretKey).
password storage-access-key 20 >/dev/null
password storage-secret-key 40 >/dev/null

# A private CA, valid 10 years; its key stays on this server (0600) and signs nothing but this server's certificate.
if [ ! -s "$dir/tls-ca" ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=storefront private CA" \
    -keyout "$dir/tls-ca.key" -out "$dir/tls-ca" 2>/dev/null
  chmod 600 "$dir/tls-ca.key"
fi
# This server's certificate: the private address the workers dial, and the compose service names.
case $main in
  *[!0-9.]*) san="DNS:$main" ;;
  *) san="IP:$main" ;;
esac
if [ ! -s "$dir/tls-cert" ]; then
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$main" -keyout "$dir/tls-key" -out "$dir/tls-cert.csr" 2>/dev/null
  printf 'subjectAltName=%s,DNS:messaging,DNS:cache,DNS:storage\nextendedKeyUsage=serverAuth\n' "$san" >"$dir/tls-cert.ext"
  openssl x509 -req -in "$dir/tls-cert.csr" -CA "$dir/tls-ca" -CAkey "$dir/tls-ca.key" -CAcreateserial \
    -days 825 -extfile "$dir/tls-cert.ext" -out "$dir/tls-cert" 2>/dev/null
  rm -f "$dir/tls-cert.csr" "$dir/tls-cert.ext"
  # Read by RabbitMQ's and Redis's own users inside their containers (compose mounts files as they are).
  chmod 644 "$dir/tls-key"
fi

# What a worker server needs, and nothing else: its broker and Redis users over TLS, the S3 keys, the CA.
worker="$dir/worker-server"
mkdir -p "$worker"
chmod 700 "$worker"
printf '%s' "amqps://imageworker:$(cat "$dir/messaging-imageworker-password")@$main:5671" >"$worker/imageworker-messaging"
printf '%s' "$main:6380,user=imageworker,password=$(cat "$dir/cache-imageworker-password"),ssl=true" >"$worker/imageworker-cache"
cp "$dir/storage-access-key" "$dir/storage-secret-key" "$dir/tls-ca" "$worker/"
echo "Worker-server secrets in $worker: copy that folder to each worker server (scp -r)."
