#!/usr/bin/env bash
# A node behind NAT, reached through a relay: the real binary in Linux network namespaces.
#
#   scripts/nat.sh [DIR]        as root; DIR keeps data directories and logs (default: a
#                               fresh temporary one, removed when the run passed)
#
# Topology (three namespaces, nothing in the host's own network is touched):
#
#   private 10.0.0.0/24           router                      public 203.0.113.0/24
#   ┌──────────────┐       ┌─────────────────────┐       ┌──────────────────────────┐
#   │ A 10.0.0.2   │──lan──│ 10.0.0.1            │──wan──│ relay  203.0.113.10:4001 │
#   │ confer run   │       │ 203.0.113.1         │       │ B      203.0.113.20:4646 │
#   │  --relay R   │       │ masquerade lan→wan  │       │ (route to 10.0.0.0/24    │
#   └──────────────┘       │ drop new wan→lan    │       │  via the router)         │
#                          │ drop lan→B directly │       └──────────────────────────┘
#                          └─────────────────────┘
#
# A can open connections out (they leave as 203.0.113.1), but nothing outside can open one
# to A: the router forwards only replies. The router also drops A's packets to B's address,
# as a firewall that lets A out to the relay but not to partners would: without that rule
# libp2p's hole punching (dcutr) may open a direct connection from A to B (B is public, so
# A's dial out would simply succeed), and the run would no longer show that the relay alone
# carries the sync. A runs `confer run --relay RELAY` and is reachable only at
# RELAY/p2p-circuit/p2p/A. B adds that address (`peer add`); A trusts B's body by id
# (`confer trust`, as by official letter) and adds no address of B's. Checked, each
# printed as it passes:
#   1. A's TCP connection out to the relay works, through the NAT; one to B does not;
#   2. from the public side, A cannot be dialled: neither its private address nor the
#      router's public one accept a connection;
#   3. A listens through the relay (a /p2p-circuit address in its status);
#   4. A and B connect and prove their bodies to each other, and B's connection to A goes
#      to A's relayed address (`status`: the peer's connection addresses end in
#      /p2p-circuit/p2p/A);
#   5. an agenda created on A (`agenda new --with B`) reaches B, title intact;
#   6. an edit made on B (`agenda edit --summary`) reaches A;
#   7. B's connections to A were relayed throughout, and the router masqueraded A's
#      connections (its nft counter);
#   8. NAT_HOLD_S seconds later (beyond the 30 s within which a peer must prove its body,
#      which a node once applied to its relay too, closing every circuit), A still lists its
#      relayed address, B is still connected to A through the relay, and a second edit
#      made on A reaches B; no process panicked.
#
# Environment:
#   CONFER        the confer binary (default: build the debug one with
#                 `cargo build -p confer-node --bin confer`, in CARGO_TARGET_DIR or ./target)
#   NAT_WAIT_S    seconds each wait may take (default: 30); the checks stop after 150 s in all,
#                 so a run, clean-up included, takes less than three minutes
#   NAT_HOLD_S    seconds to wait before check 8 (default: 35; 0 leaves check 8 out)
#
# Needs root, `ip` (iproute2) and `nft` (nftables); a missing tool is installed with
# apt-get, as a CI machine would. Exit status: 0 passed, 1 a check failed, 2 set-up error
# (a tool missing and not installable, a build failure, ...), 77 skipped: not root, or
# network namespaces are not permitted here (the reason is printed). The last line is
# `nat: 1 passed, 0 failed`, `nat: 0 passed, 1 failed` or `nat: skipped: REASON`.

# Functions called through wait_until and the traps look unreachable to shellcheck.
# shellcheck disable=SC2317
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

case ${1:-} in
-h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
    exit 0
    ;;
esac

WAIT_S=${NAT_WAIT_S:-30}
[[ $WAIT_S =~ ^[1-9][0-9]*$ ]] || {
    echo "nat: NAT_WAIT_S must be a positive whole number, not '$WAIT_S'" >&2
    exit 2
}
HOLD_S=${NAT_HOLD_S:-35}
if ! [[ $HOLD_S =~ ^[0-9]+$ ]] || ((HOLD_S > 100)); then
    echo "nat: NAT_HOLD_S must be a whole number of seconds up to 100, not '$HOLD_S'" >&2
    exit 2
fi
TOTAL_S=150    # all the checks, set-up included: with clean-up, under three minutes
CLI_TIMEOUT=10 # seconds any one CLI command may take

START_MS=$(date +%s%3N)
now_ms() { date +%s%3N; }
elapsed() { # "12.345"
    local ms=$(($(now_ms) - START_MS))
    printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

skip() {
    echo "nat: skipped: $*"
    exit 77
}
die() { # set-up error
    echo "nat: set-up error: $*" >&2
    echo "nat: 0 passed, 1 failed"
    exit 2
}
fail() { # a check failed
    echo "FAIL  $*"
    exit 1
}
pass() {
    printf 'ok    %s  (%ss)\n' "$*" "$(elapsed)"
}

# ---- privileges and tools ------------------------------------------------------------

[[ $(id -u) == 0 ]] || skip "needs root to create network namespaces (run as root, e.g. sudo $0)"

APT_UPDATED=0
# need COMMAND PACKAGE: installs PACKAGE with apt-get if COMMAND is missing.
need() {
    command -v "$1" >/dev/null && return 0
    command -v apt-get >/dev/null || die "'$1' is missing and apt-get is not available to install $2"
    echo "nat: installing $2 (for '$1')"
    if ((APT_UPDATED == 0)); then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null || die "apt-get install $2 failed"
    command -v "$1" >/dev/null || die "'$1' is still missing after installing $2"
}
need ip iproute2
need nft nftables
command -v python3 >/dev/null || die "python3 is needed to read confer's JSON output"
command -v timeout >/dev/null || die "timeout (coreutils) is needed"

# ---- the binary ---------------------------------------------------------------------

if [[ -n ${CONFER:-} ]]; then
    [[ $CONFER == */* ]] || CONFER=$(command -v "$CONFER") || die "CONFER: '$CONFER' not found"
    [[ $CONFER == /* ]] || CONFER=$PWD/$CONFER
else
    echo "nat: cargo build -p confer-node --bin confer"
    (cd "$ROOT" && cargo build -q -p confer-node --bin confer) || die "cargo build failed"
    TARGET_DIR=${CARGO_TARGET_DIR:-target}
    [[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
    CONFER=$TARGET_DIR/debug/confer
fi
[[ -x $CONFER ]] || die "$CONFER is not an executable file"

# ---- work directory, namespaces, clean-up -------------------------------------------

if [[ -n ${1:-} ]]; then
    DIR=$1
    [[ $DIR == /* ]] || DIR=$PWD/$DIR
    mkdir -p "$DIR"
    [[ -z $(ls -A "$DIR") ]] || die "DIR $DIR is not empty"
    TEMP_DIR=0
else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/confer-nat.XXXXXX")
    TEMP_DIR=1
fi
# The data directory is always given with --data; an inherited CONFER_DATA must not interfere.
unset CONFER_DATA

# Names unique to this run, so two runs (or a leftover) never collide.
NS_A=confer-nat-$$-a
NS_R=confer-nat-$$-router
NS_PUB=confer-nat-$$-public
NAMESPACES=()
PIDS=()  # the relay's and the nodes' processes
NAMES=() # and their names, for messages

show_logs() {
    local f
    for f in "$DIR"/relay/relay.log "$DIR"/a/node.log "$DIR"/b/node.log; do
        [[ -s $f ]] || continue
        echo "---- last lines of $f"
        tail -n 15 "$f" | sed 's/^/    /'
    done
}

cleanup() {
    local status=$? pid ns alive
    trap - EXIT INT TERM
    ((status != 1)) || show_logs
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    # Up to 5 s for them all to stop cleanly, then SIGKILL.
    for _ in $(seq 50); do
        alive=0
        for pid in "${PIDS[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        { wait "$pid"; } 2>/dev/null || true
    done
    for ns in "${NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    if ((status == 0)) && ((TEMP_DIR)); then
        rm -rf "$DIR"
    elif ((status == 77)) && ((TEMP_DIR)); then
        rm -rf "$DIR"
    elif ((status != 77)); then
        echo "nat: data directories and logs are in $DIR"
    fi
    if ((status == 0)); then
        echo "nat: 1 passed, 0 failed"
    elif ((status == 1)); then
        echo "nat: 0 passed, 1 failed"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'echo "nat: interrupted"; exit 1' INT TERM

add_ns() {
    if ! err=$(ip netns add "$1" 2>&1); then
        skip "network namespaces are not permitted here ('ip netns add' failed: $err)"
    fi
    NAMESPACES+=("$1")
    ip -n "$1" link set lo up || skip "cannot configure a network namespace ('ip link set lo up' failed)"
}

in_ns() { # NS COMMAND...
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

echo "nat: binary $CONFER"
echo "nat: work directory $DIR"

# ---- topology -----------------------------------------------------------------------

add_ns "$NS_A"
add_ns "$NS_R"
add_ns "$NS_PUB"
net() { "$@" || die "could not build the namespaces' network: '$*' failed"; }
# Each veth pair is created inside the router's namespace, its peer moved straight to the
# other one: the host's own interfaces are never touched.
net ip -n "$NS_R" link add lan type veth peer name eth0 netns "$NS_A"
net ip -n "$NS_R" link add wan type veth peer name eth0 netns "$NS_PUB"
net ip -n "$NS_R" addr add 10.0.0.1/24 dev lan
net ip -n "$NS_R" addr add 203.0.113.1/24 dev wan
net ip -n "$NS_R" link set lan up
net ip -n "$NS_R" link set wan up
net ip -n "$NS_A" addr add 10.0.0.2/24 dev eth0
net ip -n "$NS_A" link set eth0 up
net ip -n "$NS_A" route add default via 10.0.0.1
net ip -n "$NS_PUB" addr add 203.0.113.10/24 dev eth0
net ip -n "$NS_PUB" addr add 203.0.113.20/24 dev eth0
net ip -n "$NS_PUB" link set eth0 up
# As if the public network routed private addresses to the router: unsolicited packets
# for A then reach the router, and its filter is what stops them.
net ip -n "$NS_PUB" route add 10.0.0.0/24 via 203.0.113.1
net in_ns "$NS_R" sysctl -q -w net.ipv4.ip_forward=1
in_ns "$NS_R" nft -f - <<'NFT' || die "could not load the router's nftables rules"
table ip confer_nat {
    chain forward {
        type filter hook forward priority filter; policy drop;
        iifname "lan" oifname "wan" ip daddr 203.0.113.20 counter drop comment "A to B directly"
        iifname "lan" oifname "wan" accept
        iifname "wan" oifname "lan" ct state established,related accept
        iifname "wan" oifname "lan" counter drop comment "unsolicited from outside"
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "wan" counter masquerade
    }
}
NFT
pass "namespaces: A 10.0.0.2 behind router 10.0.0.1/203.0.113.1 (masquerade, A may not reach B directly); relay 203.0.113.10, B 203.0.113.20"

# ---- helpers ------------------------------------------------------------------------

# cli NS DIR ARGS...: one CLI command in namespace NS, bounded in time, English messages.
cli() {
    local ns=$1 dir=$2
    shift 2
    RUST_LOG=warn LANG=C NO_COLOR=1 timeout -k 5 "$CLI_TIMEOUT" \
        ip netns exec "$ns" "$CONFER" --data "$dir" "$@" </dev/null
}

# json EXPR < JSON: prints the Python expression EXPR of the parsed input `d`.
json() {
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# wait_until WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds; fails the run
# after WAIT_S seconds (or when the whole run's time is up), naming WHAT and printing
# COMMAND's last output.
LAST=''
wait_until() {
    local what=$1 started
    shift
    started=$(now_ms)
    while :; do
        all_running
        if LAST=$("$@" 2>&1); then
            return 0
        fi
        if (($(now_ms) - started > WAIT_S * 1000)); then
            fail "$what: not within ${WAIT_S}s; last seen: ${LAST:-nothing}"
        fi
        if (($(now_ms) - START_MS > TOTAL_S * 1000)); then
            fail "$what: the whole run took longer than ${TOTAL_S}s; last seen: ${LAST:-nothing}"
        fi
        sleep 0.2
    done
}

# tcp_open NS HOST PORT: whether a TCP connection from NS to HOST:PORT opens within 3 s.
tcp_open() {
    timeout -k 1 3 ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}

# start NS NAME FILE DIR ARGS...: `confer ARGS...` in the background in NS, output to
# DIR/FILE.out and DIR/FILE.log.
start() {
    local ns=$1 name=$2 file=$3 dir=$4
    shift 4
    mkdir -p "$dir"
    RUST_LOG=${RUST_LOG:-info,libp2p=warn} NO_COLOR=1 ip netns exec "$ns" "$CONFER" --data "$dir" "$@" \
        >"$dir/$file.out" 2>"$dir/$file.log" </dev/null &
    PIDS+=($!)
    NAMES+=("$name")
}

# Fails the run if the relay or a node has exited.
all_running() {
    local i
    for i in "${!PIDS[@]}"; do
        kill -0 "${PIDS[i]}" 2>/dev/null || fail "${NAMES[i]} exited (its log is below)"
    done
}

# ---- the relay and the two nodes ------------------------------------------------------

start "$NS_PUB" "the relay" relay "$DIR/relay" relay --listen /ip4/203.0.113.10/tcp/4001 --json
relay_peer() {
    json 'd["peer"]' <"$DIR/relay/relay.out"
}
wait_until "the relay starts" relay_peer
RELAY=/ip4/203.0.113.10/tcp/4001/p2p/$LAST
pass "relay runs at $RELAY"

init() { # DIR NAME -> "BODY PEER"
    RUST_LOG=warn LANG=C timeout -k 5 "$CLI_TIMEOUT" "$CONFER" --data "$1" init --name "$2" --member 值班员 --json </dev/null |
        json 'd["body"] + " " + d["peer"]'
}
read -r A_BODY A_PEER < <(init "$DIR/a" 平湖市政协) || die "init of A failed"
read -r B_BODY _ < <(init "$DIR/b" 金山区政协) || die "init of B failed"
[[ -n $A_BODY && -n $B_BODY ]] || die "init printed no body id"

start "$NS_PUB" B node "$DIR/b" run --listen /ip4/203.0.113.20/tcp/4646 --api 127.0.0.1:4647
start "$NS_A" A node "$DIR/a" run --listen /ip4/10.0.0.2/tcp/4646 --api 127.0.0.1:4647 --relay "$RELAY"
answers() { # NS DIR
    cli "$1" "$2" status --json >/dev/null
}
wait_until "B answers status" answers "$NS_PUB" "$DIR/b"
wait_until "A answers status" answers "$NS_A" "$DIR/a"
pass "A (平湖市政协, behind the NAT) and B (金山区政协, public) run"

# 1. and 2.: the NAT lets A out and nobody in.
tcp_open "$NS_A" 203.0.113.10 4001 || fail "A cannot open a TCP connection out to the relay through the NAT"
pass "A opens a TCP connection out to the relay through the router"
! tcp_open "$NS_A" 203.0.113.20 4646 || fail "A opened a TCP connection to B directly (203.0.113.20:4646): the router let it out"
pass "A cannot open a connection to B directly"
! tcp_open "$NS_PUB" 10.0.0.2 4646 || fail "the public side opened a TCP connection to A's private address 10.0.0.2:4646: the router let it in"
! tcp_open "$NS_PUB" 203.0.113.1 4646 || fail "the public side opened a TCP connection to the router's public address 203.0.113.1:4646"
pass "A cannot be dialled from the public side (10.0.0.2:4646 and 203.0.113.1:4646 refuse)"

# 3. A's relayed address.
circuit_of_a() {
    cli "$NS_A" "$DIR/a" status --json |
        json "next(a for a in d['listen'] if '/p2p-circuit/' in a and a.startswith('$RELAY/'))"
}
wait_until "A listens through the relay" circuit_of_a
CIRCUIT=$LAST
[[ $CIRCUIT == "$RELAY/p2p-circuit/p2p/$A_PEER" ]] || fail "A's relayed address is $CIRCUIT, expected $RELAY/p2p-circuit/p2p/$A_PEER"
pass "A listens through the relay at $CIRCUIT"

# 4. B adds A's relayed address; A trusts B's body by id and adds no address of B's.
cli "$NS_PUB" "$DIR/b" peer add "$CIRCUIT" >/dev/null || fail "peer add of A's relayed address on B failed"
cli "$NS_A" "$DIR/a" trust "$B_BODY" >/dev/null || fail "trust of B's body on A failed"
proven() { # NS DIR BODY: the node lists a connected, trusted peer of BODY
    cli "$1" "$2" status --json |
        json "[p['peer_id'] for p in d['peers'] if (p.get('body') or {}).get('id') == '$3' and p['trusted']][0]"
}
wait_until "B lists A as a connected, trusted peer" proven "$NS_PUB" "$DIR/b" "$A_BODY"
wait_until "A lists B as a connected, trusted peer" proven "$NS_A" "$DIR/a" "$B_BODY"
pass "A and B are connected and trust each other's body"

# B's connections to A, as B's status shows them: one line each, "relayed" or "direct".
connections_to_a() {
    cli "$NS_PUB" "$DIR/b" status --json | python3 -c '
import json, sys
peer = sys.argv[1]
d = json.load(sys.stdin)
for p in d["peers"]:
    if p["peer_id"] == peer:
        for a in p.get("addresses", []):
            print(("relayed " if "/p2p-circuit/" in a else "direct ") + a)
' "$A_PEER"
}
conns=$(connections_to_a) || fail "B's status cannot be read"
[[ -n $conns ]] || fail "B's status lists no connection address for A"
grep -q '^relayed ' <<<"$conns" || fail "B reaches A by no relayed address: $conns"
! grep -q '^direct ' <<<"$conns" || fail "B also has a direct connection to A: $conns"
pass "B's connection to A is relayed: ${conns#relayed }"

# 5. An agenda created on A reaches B.
TITLE="经中继同步的联动协商议题 $$"
ID=$(cli "$NS_A" "$DIR/a" agenda new --title "$TITLE" --with "$B_BODY" --json | json 'd["id"]') ||
    fail "agenda new on A failed"
field_is() { # NS DIR FIELD VALUE
    local got
    got=$(cli "$1" "$2" agenda show "$ID" --json |
        json "next((f['current'] or {}).get('value') for f in d['fields'] if f['name'] == '$3')")
    [[ $got == "$4" ]] || {
        echo "$3 = $got"
        return 1
    }
}
wait_until "A's agenda reaches B" field_is "$NS_PUB" "$DIR/b" title "$TITLE"
pass "agenda ${ID:0:16} created on A is on B with its title"

# 6. An edit on B reaches A.
SUMMARY="金山区政协经中继回复 $$"
cli "$NS_PUB" "$DIR/b" agenda edit "$ID" --summary "$SUMMARY" >/dev/null || fail "agenda edit on B failed"
wait_until "B's edit reaches A" field_is "$NS_A" "$DIR/a" summary "$SUMMARY"
pass "B's edit (summary) is on A"

# 7. Still only relayed connections, and the router did translate A's connections.
conns=$(connections_to_a) || fail "B's status cannot be read"
grep -q '^relayed ' <<<"$conns" || fail "after the sync B has no relayed connection to A: $conns"
! grep -q '^direct ' <<<"$conns" || fail "after the sync B has a direct connection to A (hole punched?): $conns"
masqueraded=$(in_ns "$NS_R" nft list chain ip confer_nat postrouting |
    sed -n 's/.*counter packets \([0-9]*\).*masquerade.*/\1/p')
forward=$(in_ns "$NS_R" nft list chain ip confer_nat forward)
unsolicited=$(sed -n 's/.*counter packets \([0-9]*\).*unsolicited.*/\1/p' <<<"$forward")
direct=$(sed -n 's/.*counter packets \([0-9]*\).*A to B directly.*/\1/p' <<<"$forward")
[[ ${masqueraded:-0} -gt 0 ]] || fail "the router masqueraded no connection from A"
pass "B's connections to A stayed relayed; the router masqueraded ${masqueraded} connection(s) from A, dropped ${unsolicited:-0} unsolicited packet(s) from outside and ${direct:-0} from A to B directly"

# 8. The relay connections last.
if ((HOLD_S > 0)); then
    (((($(now_ms) - START_MS) / 1000) + HOLD_S <= TOTAL_S)) ||
        fail "no time left for check 8 within ${TOTAL_S}s (at $(elapsed)s)"
    echo "      (waiting ${HOLD_S}s: past the 30 s by which a peer must prove its body)"
    sleep "$HOLD_S"
    all_running
    circuit_of_a >/dev/null 2>&1 || fail "after ${HOLD_S}s A no longer lists its relayed address"
    conns=$(connections_to_a) || fail "B's status cannot be read"
    grep -q '^relayed ' <<<"$conns" || fail "after ${HOLD_S}s B has no relayed connection to A: ${conns:-none}"
    ! grep -q '^direct ' <<<"$conns" || fail "after ${HOLD_S}s B has a direct connection to A: $conns"
    TITLE2="经中继的第二次修改 $$"
    cli "$NS_A" "$DIR/a" agenda edit "$ID" --title "$TITLE2" >/dev/null || fail "agenda edit on A failed"
    wait_until "A's second edit reaches B" field_is "$NS_PUB" "$DIR/b" title "$TITLE2"
    pass "${HOLD_S}s later A is still reachable through the relay, B still connected through it, and A's second edit (title) is on B"
fi
all_running
if grep -h panicked "$DIR"/a/node.log "$DIR"/b/node.log "$DIR"/relay/relay.log; then
    fail "a process panicked (above)"
fi

echo "nat: all checks passed in $(elapsed)s"
exit 0
