#!/usr/bin/env bash
# Installs edge-agent as a systemd service on Raspberry Pi OS (Bookworm) or any Debian-like system:
#   - the system user `edge-agent`, in the groups video (camera), gpio (alarm) and i2c (sensors);
#   - the agent under /opt/edge-agent (copied from this checkout, built, dev dependencies pruned);
#   - /etc/edge-agent/config.yaml from systemd/config.example.yaml (an existing one is never touched);
#   - /var/lib/edge-agent for the database, snapshots and models;
#   - systemd/edge-agent.service, checked with `systemd-analyze verify`, enabled and started.
#
# Usage: sudo scripts/install.sh [--prefix DIR] [--no-start]
# Run it again to upgrade: the code is replaced, the configuration and the data are kept.
set -euo pipefail

PREFIX=/opt/edge-agent
START=1
CONFIG_DIR=/etc/edge-agent
DATA_DIR=/var/lib/edge-agent
UNIT=/etc/systemd/system/edge-agent.service
SERVICE_USER=edge-agent

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }
die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run it as root (sudo $0)"
SOURCE=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$SOURCE/package.json" ] || [ ! -f "$SOURCE/systemd/edge-agent.service" ]; then die "$SOURCE is not an edge-agent checkout"; fi

# Node.js >= 20: Debian Bookworm's own nodejs is 18, too old (NodeSource or the official arm64 build).
NODE=$(command -v node || true)
[ -n "$NODE" ] || die "Node.js >= 20 is required and 'node' is not on PATH"
NODE_MAJOR=$("$NODE" -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 20 ] || die "Node.js >= 20 is required, $NODE is $("$NODE" --version)"
command -v npm >/dev/null || die "npm is required"

# Native addons (better-sqlite3, i2c-bus, onoff's epoll) compile when no prebuilt binary fits.
missing=()
for pkg in build-essential python3; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

say "user $SERVICE_USER"
for group in video gpio i2c; do getent group "$group" >/dev/null || groupadd --system "$group"; done
if ! id "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
fi
usermod -a -G video,gpio,i2c "$SERVICE_USER"

say "agent in $PREFIX"
STAGE=$(mktemp -d "${PREFIX%/}.new.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
# Only the project's own files: no node_modules, data or build output of the checkout.
tar -C "$SOURCE" --exclude=./node_modules --exclude=./data --exclude=./dist --exclude=./.git --exclude=./.tmp -cf - . | tar -C "$STAGE" -xf -
(cd "$STAGE" && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund)
if [ -d "$PREFIX" ]; then rm -rf "${PREFIX%/}.old" && mv "$PREFIX" "${PREFIX%/}.old"; fi
mv "$STAGE" "$PREFIX"
trap - EXIT
rm -rf "${PREFIX%/}.old"
chown -R root:root "$PREFIX"
chmod -R go-w "$PREFIX"

say "configuration in $CONFIG_DIR"
install -d -m 0750 -o root -g "$SERVICE_USER" "$CONFIG_DIR"
if [ ! -e "$CONFIG_DIR/config.yaml" ]; then
  install -m 0640 -o root -g "$SERVICE_USER" "$PREFIX/systemd/config.example.yaml" "$CONFIG_DIR/config.yaml"
  echo "    edit $CONFIG_DIR/config.yaml (camera, sensor, MQTT broker, alarm pin), then: systemctl restart edge-agent"
else
  echo "    keeping the existing $CONFIG_DIR/config.yaml"
fi
install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$DATA_DIR"

say "systemd unit $UNIT"
sed -e "s#/opt/edge-agent#$PREFIX#g" -e "s#/usr/bin/node #$NODE #" "$PREFIX/systemd/edge-agent.service" > "$UNIT"
chmod 0644 "$UNIT"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$UNIT" || die "systemd-analyze verify rejected $UNIT"
fi
"$NODE" "$PREFIX/dist/agent/cli.js" doctor --config "$CONFIG_DIR/config.yaml" || echo "    doctor found problems: see above (the service is installed anyway)"

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if [ "$START" -eq 1 ]; then
    systemctl enable --now edge-agent.service
    say "started: journalctl -u edge-agent -f"
  else
    systemctl enable edge-agent.service
    say "enabled (not started): systemctl start edge-agent"
  fi
else
  say "systemd is not running here: start it later with systemctl enable --now edge-agent"
fi
