#!/usr/bin/env bash
# The README's two commands:
#   ./dev.sh run    start the whole storefront (AppHost, backing servers, dashboard)
#   ./dev.sh test   build and run every test, ending with one line "N passed, N failed, N skipped"
#   ./dev.sh test UploadApi.Tests     one test project; or a `dotnet test --filter` expression
# Each installs the Debian packages it needs when they are missing (as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")"

server_packages=(mariadb-server redis-server rabbitmq-server)
test_packages=(chromium nginx wrk)

install_missing() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo=(sudo); else
      echo "Missing Debian packages: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "Installing ${missing[*]} ..."
  "${sudo[@]}" apt-get update -qq
  # The packages try to start system services; where there is no init system that is refused, harmlessly:
  # the AppHost runs the servers as its own child processes.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

require_dotnet() {
  command -v dotnet >/dev/null || { echo "The .NET 10 SDK is needed: https://dot.net (dotnet on PATH)." >&2; exit 1; }
}

run() {
  require_dotnet
  install_missing "${server_packages[@]}"
  dotnet build AppHost -nologo -v:q
  # `./dev.sh run -- --Backing:Mode=container` reads naturally; dotnet run adds its own `--`.
  if [ "${1:-}" = "--" ]; then shift; fi
  # The http profile: no development certificate is needed (see AppHost/Properties/launchSettings.json).
  exec dotnet run --project AppHost --no-build --launch-profile http -- "$@"
}

test() {
  local filter="${1:-}"
  require_dotnet
  install_missing "${server_packages[@]}" "${test_packages[@]}"
  # s3rver, the S3 server of the Storage:Kind=S3 tests (AppHost/LocalServers/s3rver.sh), runs on Node.js:
  # any npm on PATH will do (NodeSource's nodejs bundles its own and conflicts with Debian's npm package).
  command -v npm >/dev/null || install_missing nodejs npm
  tests/corpus/fetch.sh
  for project in tests/*.Tests/*.Tests.csproj; do
    grep -qF "${project//\//\\}" Reference.sln || { echo "$project is not in Reference.sln, so it would not be built." >&2; exit 1; }
  done
  # A filter names one test project (UploadApi.Tests, or UploadApi) or is a `dotnet test --filter` expression.
  local projects=(tests/*.Tests/*.Tests.csproj) filter_args=()
  if [ -n "$filter" ]; then
    local named=(tests/"${filter%.Tests}".Tests/*.Tests.csproj)
    if [ -f "${named[0]}" ]; then projects=("${named[0]}"); else filter_args=(--filter "$filter"); fi
  fi
  dotnet build Reference.sln -nologo -v:q
  local log results
  results=$(mktemp -d)
  log="$results/test.log"
  local status=0
  # One test project at a time: end-to-end suites start the whole storefront and want both cores.
  for project in "${projects[@]}"; do
    dotnet test "$project" --no-build --nologo "${filter_args[@]}" \
      --logger "trx;LogFilePrefix=$(basename "$project" .csproj)" --results-directory "$results" \
      2>&1 | tee -a "$log" || status=1
  done
  # dotnet test prints one summary per project (Passed!, Failed!, or Skipped! when all skipped); CI reads one total.
  local passed failed skipped
  local summaries
  summaries=$(grep -E '^(Passed|Failed|Skipped)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$log" || true)
  passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summaries" | awk '{s+=$1} END {print s+0}')
  failed=$(sed -E 's/.*- Failed: +([0-9]+).*/\1/' <<<"$summaries" | awk '{s+=$1} END {print s+0}')
  skipped=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summaries" | awk '{s+=$1} END {print s+0}')
  # A skip means a proof did not run (no podman, no nginx…): say which, loudly. In CI a skip fails the
  # run unless tests/allowed-skips.txt names the test with a reason.
  if [ "$skipped" -gt 0 ]; then
    echo "Skipped tests (a skipped proof is not a passed one):"
    local names
    names=$(grep -hE '^ +Skipped ' "$log" | sed -E 's/^ +Skipped +//; s/ +\[[^]]*\]$//' | sort -u)
    sed 's/^/  /' <<<"$names"
    if [ "${CI:-}" = "true" ]; then
      local allowed unexpected
      allowed=$(grep -v '^#' tests/allowed-skips.txt | cut -f1 | sed '/^$/d')
      unexpected=$(grep -vF -f <(echo "$allowed") <<<"$names" || true)
      if [ -n "$unexpected" ]; then
        echo "In CI these skips are failures (not in tests/allowed-skips.txt):"
        sed 's/^/  /' <<<"$unexpected"
        status=1
      fi
    fi
  fi
  # The figures some suites print (the fault run's counts and the like) are kept in the result files.
  grep -hoE '^ *(fault-run|hostile-input|fresh-broker|broker-down|broker-killed|redis-down|redis-stall|no-worker|bomb|poison|worker-killed|mysql-down|replica-killed): [^<&]*' \
    "$results"/*.trx 2>/dev/null | sed 's/^ *//' | sort -u || true
  echo "Test results: $results"
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
}

case "${1:-}" in
  run) shift; run "$@" ;;
  test) shift; test "$@" ;;
  *) echo "usage: ./dev.sh run [-- settings] | ./dev.sh test [TestProject | filter]" >&2; exit 2 ;;
esac
