#!/usr/bin/env bash
# Builds the Debian package (target/debian/confer_VERSION_ARCH.deb) and test-installs it on
# this machine: `apt-get install ./confer_….deb` as committee IT staff would, then checks
# the binary, the system user, the data directory's mode, the unit and the settings file,
# initialises a node as the confer user, runs it briefly, asks its status, and removes the
# package again (the data directory stays, as documented). Needs root and cargo-deb
# (`cargo install cargo-deb --locked`; installed here if missing). Not part of CI's
# 30-minute run: the release build alone takes longer on two cores.
#
#   scripts/deb.sh            build and test-install
#   scripts/deb.sh --build    build only
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

if ! command -v cargo-deb >/dev/null; then
    echo "deb: installing cargo-deb"
    cargo install cargo-deb --locked
fi

echo "deb: release build"
cargo build --release -p confer-node --bin confer
# One unit: the packaged copy differs only in where it runs the binary from.
# The packaged unit is deploy/confer.service with the packaged path; it is kept in the
# repository (cargo-deb resolves only target/release/ against CARGO_TARGET_DIR), so check
# that it says the same.
if ! diff <(sed 's#/usr/local/bin/confer#/usr/bin/confer#g' deploy/confer.service) deploy/debian/confer.service; then
    echo "deb: deploy/debian/confer.service differs from deploy/confer.service (with /usr/bin); make it again:" >&2
    echo "  sed 's#/usr/local/bin/confer#/usr/bin/confer#g' deploy/confer.service > deploy/debian/confer.service" >&2
    exit 1
fi
cargo deb -p confer-node --no-build
deb=$(realpath "$(ls -t "$target"/debian/confer_*.deb | head -1)")
echo "deb: built $deb ($(du -h "$deb" | cut -f1))"
[[ "${1:-}" == "--build" ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "deb: the test install needs root" >&2
    exit 1
fi
fail() { echo "deb: FAILED: $*" >&2; exit 1; }

if dpkg -s confer >/dev/null 2>&1; then
    fail "a confer package is installed already; remove it first (apt-get remove confer)"
fi
if [[ -e /var/lib/confer ]]; then
    fail "/var/lib/confer exists already; this test would use it"
fi
apt-get install -y "$deb" >/tmp/confer-deb-install.log 2>&1 || { cat /tmp/confer-deb-install.log; fail "apt-get install"; }
grep -q "confer is installed" /tmp/confer-deb-install.log || fail "postinst did not say what to do next"

/usr/bin/confer --version >/dev/null || fail "confer --version"
getent passwd confer >/dev/null || fail "no confer system user"
[[ $(stat -c '%U %a' /var/lib/confer) == "confer 700" ]] || fail "/var/lib/confer: $(stat -c '%U %a' /var/lib/confer), want confer 700"
[[ -f /lib/systemd/system/confer.service ]] || fail "no unit"
grep -q '^ExecStart=/usr/bin/confer run' /lib/systemd/system/confer.service || fail "the unit does not run /usr/bin/confer"
[[ -f /etc/confer/confer.env ]] || fail "no /etc/confer/confer.env"
[[ -f /etc/confer/confer.toml ]] || fail "no /etc/confer/confer.toml"
grep -q -- '--config /etc/confer/confer.toml' /lib/systemd/system/confer.service || fail "the unit does not read /etc/confer/confer.toml"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /lib/systemd/system/confer.service 2>&1 | grep -v "^$" || true
fi

as_confer() { runuser -u confer -- "$@"; }
as_confer /usr/bin/confer --data /var/lib/confer init --name "测试政协" >/dev/null || fail "init as the confer user"
# The installed configuration file, with the test's flags over it.
as_confer /usr/bin/confer --data /var/lib/confer --config /etc/confer/confer.toml run --listen /ip4/127.0.0.1/tcp/0 --api 127.0.0.1:0 >/tmp/confer-deb-run.log 2>&1 &
pid=$!
ok=0
for _ in $(seq 1 50); do
    if as_confer /usr/bin/confer --data /var/lib/confer status --json >/tmp/confer-deb-status.json 2>/dev/null; then
        ok=1
        break
    fi
    sleep 0.2
done
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
((ok)) || { cat /tmp/confer-deb-run.log; fail "the installed node did not answer status"; }
grep -q '测试政协' /tmp/confer-deb-status.json || fail "status does not name the body"

apt-get remove -y confer >/dev/null 2>&1 || fail "apt-get remove"
[[ -d /var/lib/confer/keys ]] || fail "removing the package deleted the keys"
rm -rf /var/lib/confer
deluser --system confer >/dev/null 2>&1 || true
echo "deb: passed ($deb installed, initialised, ran, answered status, removed; data kept)"
