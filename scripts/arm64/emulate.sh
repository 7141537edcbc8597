#!/usr/bin/env bash
# Runs an arm64 Linux program on an x86-64 host as a Raspberry Pi would: qemu-aarch64-static emulating
# the Pi's CPU, the C/C++ libraries of an arm64 Debian sysroot, and the Pi's /proc/cpuinfo.
#
# Usage: scripts/arm64/emulate.sh [--pi 4|5] SYSROOT PROGRAM [ARG...]     (as root: it mounts)
#   --pi 4  Raspberry Pi 4, Cortex-A72 (ARMv8.0), the default
#   --pi 5  Raspberry Pi 5, Cortex-A76 (ARMv8.2 with the dot-product instructions)
# The CPU model matters: onnxruntime picks its int8 kernels by the instructions the CPU reports, so each
# model runs the code path that Pi runs.
#
# Why the cpuinfo: onnxruntime's CPU detection reads /proc/cpuinfo when it loads and crashes (SIGSEGV) on
# the host's x86 text. The Pi's text is bind-mounted over it in a private mount namespace, so only this
# program sees it, and nothing stays mounted after it ends.
# Every step execs, so the program keeps this script's process id: a signal sent to it (SIGTERM) reaches
# the emulated program.
set -euo pipefail
usage() { sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit 2; }
PI=4
if [ "${1:-}" = --pi ]; then PI=${2:-}; shift 2 || usage; fi
case "$PI" in
  4) CPU=cortex-a72 ;;
  5) CPU=cortex-a76 ;;
  *) echo "emulate.sh: --pi takes 4 or 5, not '$PI'" >&2; exit 2 ;;
esac
[ $# -ge 2 ] || usage
SYSROOT=$1
shift
CPUINFO="$(cd "$(dirname "$0")" && pwd)/rpi$PI-cpuinfo.txt"
# shellcheck disable=SC2016 # $1 and $@ belong to the inner sh
exec unshare --mount --propagation private -- \
  sh -c 'mount --bind "$1" /proc/cpuinfo && shift && exec "$@"' sh "$CPUINFO" \
  qemu-aarch64-static -cpu "$CPU" -L "$SYSROOT" "$@"
