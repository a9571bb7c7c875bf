#!/bin/sh
# An S3-compatible server (s3rver, from npm) as a plain child process, for Storage:Kind=S3 on one machine
# and in the tests. Usage: s3rver.sh DATADIR PORT BUCKET. Installs the pinned s3rver into the repository's
# git-ignored .data/tools the first time (npm; node and npm are Debian packages). Its keys are S3RVER/S3RVER.
set -eu
datadir=$1
port=$2
bucket=$3
version=3.7.1
tools="$(cd "$(dirname "$0")/../.." && pwd)/.data/tools/s3rver-$version"
if [ ! -x "$tools/node_modules/.bin/s3rver" ]; then
  mkdir -p "$tools"
  # Several test processes may install at once: one does, the others wait on the lock.
  (
    flock 9
    if [ ! -x "$tools/node_modules/.bin/s3rver" ]; then
      npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "s3rver@$version" >&2
    fi
  ) 9>"$tools.lock"
fi
mkdir -p "$datadir"
exec node "$tools/node_modules/s3rver/bin/s3rver.js" -d "$datadir" -a 127.0.0.1 -p "$port" --silent --no-vhost-buckets --configure-bucket "$bucket"
