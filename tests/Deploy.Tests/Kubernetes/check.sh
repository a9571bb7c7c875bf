#!/usr/bin/env bash
# Renders deploy/k8s with kustomize (kubectl kustomize, offline) into OUTPUT and validates
# every resource against the Kubernetes and KEDA OpenAPI schemas (validate.mjs), offline too:
# no cluster is needed or contacted. Installs what it lacks: kubectl and Node.js from Debian's
# packages (as root), the schema packages from npm into .data/kubernetes-schemas (git-ignored).
#
#   tests/Deploy.Tests/Kubernetes/check.sh [OUTPUT]    # default: .data/kubernetes-schemas/rendered.yaml
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$root/.data/kubernetes-schemas"
output="${1:-$work/rendered.yaml}"
mkdir -p "$work"

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "check.sh: $1 is missing; install the Debian package $2" >&2
    exit 3
  fi
  apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
}

# kubectl has kustomize built in (kubernetes-client is Debian's kubectl, where none came with the machine).
need kubectl kubernetes-client
need node nodejs
need npm npm

# The schema packages, pinned by package-lock.json; installed again only when the lock changes.
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
cp "$here/validate.mjs" "$work/"

kubectl kustomize "$root/deploy/k8s" > "$output"
node "$work/validate.mjs" "$output"
