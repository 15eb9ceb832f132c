#!/usr/bin/env bash
# The two set-up commands of README.md, on a fresh Debian 12 machine as root:
#   bash config/cohort.sh run    install what is missing, build, run the server on the embedded default
#   bash config/cohort.sh test   install what is missing, build, run every test (unit, integration, browser, sanitizers)
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(build-essential cmake ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev
  libboost-url1.81-dev libboost-program-options1.81-dev libsqlite3-dev libssl-dev libtomlplusplus-dev libhiredis-dev libsodium-dev catch2
  libcurl4-openssl-dev libhpdf-dev)
run_packages=(ffmpeg tzdata fonts-dejavu-core)  # the server runs ffmpeg for live streaming; tzdata gives session times in a registrant's zone; DejaVu prints CE certificates
test_packages=(sqlite3 chromium libwebsockets-dev redis-server python3-aiosmtpd nginx openssl poppler-utils clang-14 libclang-rt-14-dev)  # poppler-utils: pdftotext reads the certificates back; nginx: tests/deploy runs the shipped site in front of cohort; clang: the sanitizer build with the fuzzers

# apt only when something is missing, so a second run starts at once.
install_missing() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  # Any Node.js >= 18 with npm will do (Debian's, or one already on the machine): both commands need
  # npm for the pages' player (web_assets), the tests for playwright-core too.
  if ! { command -v node >/dev/null && command -v npm >/dev/null; }; then
    missing+=(nodejs npm)
  fi
  if ((${#missing[@]})); then
    echo "cohort: installing ${missing[*]}"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# hls.js from the npm registry (pinned by web/package-lock.json), served by the server as
# /assets/hls.min.js. Fetched again only when missing or when the lock file changed.
web_assets() {
  if [[ ! -f web/assets/hls.min.js || web/package-lock.json -nt web/assets/hls.min.js ]]; then
    (cd web && npm ci --no-audit --no-fund --loglevel=error) && cp web/node_modules/hls.js/dist/hls.min.js web/assets/hls.min.js ||
      { echo "cohort: could not install hls.js from the npm registry (web/package-lock.json)" >&2; exit 1; }
  fi
}

build() {  # build DIR [cmake args...]
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir"
}

case "${1:-}" in
  run)
    install_missing "${build_packages[@]}" "${run_packages[@]}"
    web_assets
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOHORT_TESTS=OFF -DCOHORT_SANITIZE=OFF
    shift
    exec build/cohort --demo "$@"
    ;;
  test)
    install_missing "${build_packages[@]}" "${run_packages[@]}" "${test_packages[@]}"
    web_assets
    exec bash tests/run_all.sh
    ;;
  *)
    echo "usage: bash config/cohort.sh run|test" >&2
    exit 64
    ;;
esac
