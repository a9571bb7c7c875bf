#!/usr/bin/env bash
# Runs every benchmark and records the figures:
#   bench/run.sh            all benchmarks (about 10 minutes on 2 cores), then
#                           bench/results/<UTC date>.json and the tables of docs/performance.md
#   bench/run.sh engine     one benchmark (engine | scaling | scheduling | gateway | e2e | pages | report), options after it:
#   bench/run.sh e2e --engine LibVips --cache false
# Needs nginx (1.22, Debian) and wrk for the gateway benchmark: installed here when missing.
# Every load run is on loopback and bounded in time and count. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for package in nginx wrk; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  echo "Installing ${missing[*]} ..."
  "${sudo[@]}" apt-get update -qq
  # nginx's package tries to start a system service; where there is no init system that is refused, harmlessly.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The photos every image benchmark reads (fetched once from Debian packages).
tests/corpus/fetch.sh

# Release builds of everything measured: the AppHost starts the services with `dotnet run --no-build`.
dotnet build bench/Bench -c Release -nologo -v:q
dotnet build Gateway -c Release -nologo -v:q

# libvips's warnings (e.g. an unknown EXIF resolution unit) say nothing about speed.
export VIPS_WARNING=0
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
dotnet bench/Bench/bin/Release/net10.0/Reference.Bench.dll "${1:-all}" "${@:2}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
