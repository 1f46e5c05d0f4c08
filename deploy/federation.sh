#!/usr/bin/env bash
# Local federation: three bodies, each a separate `confer run` process on loopback.
#
#   deploy/federation.sh [start]   init (first time only), start, connect the three nodes
#   deploy/federation.sh status    show whether each node runs, and its `confer status`
#   deploy/federation.sh stop      stop the nodes (SIGTERM, then wait)
#
# Environment:
#   CONFER    the confer binary          (default: target/release/confer, built if missing)
#   FED_DIR   base directory of the nodes (default: ./federation)
#   RUST_LOG  log filter for the nodes    (default: info; logs go to DIR/node.log)
#
# Relative paths are taken from the directory you run the script in; the default
# binary and the cargo build are taken from the repository this script belongs to.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -n ${CONFER:-} ]]; then
    if [[ $CONFER != */* ]]; then
        CONFER=$(command -v "$CONFER") || { echo "federation: CONFER: '$CONFER' not found in PATH" >&2; exit 1; }
    fi
    BUILD=0
else
    CONFER=$ROOT/target/release/confer
    BUILD=1
fi
[[ $CONFER == /* ]] || CONFER=$PWD/$CONFER

FED_DIR=${FED_DIR:-./federation}
[[ $FED_DIR == /* ]] || FED_DIR=$PWD/${FED_DIR#./}

# The node's data dir is always given with --data; an inherited CONFER_DATA must not interfere.
unset CONFER_DATA

# name | directory | base port (TCP listen = port, API = port + 1)
NAMES=(平湖市政协 金山区政协 嘉善县政协)
SLUGS=(pinghu jinshan jiashan)
PORTS=(4701 4711 4721)

STARTUP_TIMEOUT=30 # seconds until `confer status` must answer
STOP_TIMEOUT=20    # seconds to wait after SIGTERM before SIGKILL

die() {
    echo "federation: $*" >&2
    exit 1
}

dir_of() { printf '%s/%s\n' "$FED_DIR" "${SLUGS[$1]}"; }

# json_field KEY < JSON: prints the value of a top-level key (the "id" if it is an object).
json_field() {
    python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1:]:
    if isinstance(d, dict) and k in d:
        v = d[k]
        if isinstance(v, dict):
            v = v.get("id", "")
        print(v)
        sys.exit(0)
sys.exit(1)
' "$@"
}

# Pid of the node in DIR if it is running, else nothing (exit 1).
running_pid() {
    local dir=$1 pid
    [[ -f $dir/node.pid ]] || return 1
    pid=$(<"$dir/node.pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid: the process must be a confer node for this directory.
    if [[ -r /proc/$pid/cmdline ]]; then
        tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$dir" || return 1
    fi
    printf '%s\n' "$pid"
}

ensure_binary() {
    if [[ ! -x $CONFER ]]; then
        ((BUILD)) || die "CONFER=$CONFER is not an executable file"
        command -v cargo >/dev/null || die "$CONFER is missing and cargo is not installed"
        echo "Building confer (cargo build --release -p confer-node) ..."
        (cd "$ROOT" && cargo build --release -p confer-node)
        [[ -x $CONFER ]] || die "build finished but $CONFER does not exist"
    fi
    command -v python3 >/dev/null || die "python3 is needed to read confer's JSON output"
}

# Ids of node I: from DIR/init.json (saved by init), else from `confer status --json`.
ids_of() {
    local i=$1 dir json
    dir=$(dir_of "$i")
    if [[ -s $dir/init.json ]]; then
        json=$(<"$dir/init.json")
    else
        json=$("$CONFER" --data "$dir" status --json)
    fi
    BODY[i]=$(json_field body body_id <<<"$json") || die "no body id for ${NAMES[i]} in: $json"
    PEER[i]=$(json_field peer peer_id <<<"$json") || die "no peer id for ${NAMES[i]} in: $json"
}

start_node() {
    local i=$1 dir port pid waited=0
    dir=$(dir_of "$i")
    port=${PORTS[i]}
    mkdir -p "$dir"

    if [[ ! -e $dir/keys ]]; then
        echo "Initialising ${NAMES[i]} in $dir"
        "$CONFER" --data "$dir" init --name "${NAMES[i]}" --json >"$dir/init.json.tmp"
        mv "$dir/init.json.tmp" "$dir/init.json"
    fi

    if pid=$(running_pid "$dir"); then
        echo "${NAMES[i]} is already running (pid $pid)"
        return 0
    fi

    rm -f "$dir/api.json" # stale from an earlier run; `run` writes a fresh one
    echo "Starting ${NAMES[i]} on /ip4/127.0.0.1/tcp/$port, API 127.0.0.1:$((port + 1))"
    RUST_LOG=${RUST_LOG:-info} nohup "$CONFER" --data "$dir" run \
        --listen "/ip4/127.0.0.1/tcp/$port" \
        --api "127.0.0.1:$((port + 1))" \
        >"$dir/node.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/node.pid"

    until "$CONFER" --data "$dir" status --json >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "--- last lines of $dir/node.log ---" >&2
            tail -n 20 "$dir/node.log" >&2 || true
            rm -f "$dir/node.pid"
            die "${NAMES[i]} exited during start-up"
        fi
        if ((waited >= STARTUP_TIMEOUT * 5)); then
            echo "--- last lines of $dir/node.log ---" >&2
            tail -n 20 "$dir/node.log" >&2 || true
            die "${NAMES[i]} did not answer 'confer status' within ${STARTUP_TIMEOUT}s (still running as pid $pid; '$0 stop' stops it)"
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
}

cmd_start() {
    ensure_binary
    local i j addr out
    for i in "${!NAMES[@]}"; do
        start_node "$i"
    done
    BODY=() PEER=()
    for i in "${!NAMES[@]}"; do
        ids_of "$i"
    done
    for i in "${!NAMES[@]}"; do
        for j in "${!NAMES[@]}"; do
            ((i == j)) && continue
            addr=/ip4/127.0.0.1/tcp/${PORTS[j]}/p2p/${PEER[j]}
            if ! out=$("$CONFER" --data "$(dir_of "$i")" peer add "$addr" 2>&1); then
                echo "federation: warning: ${NAMES[i]}: peer add $addr failed: $out" >&2
            fi
        done
    done

    echo
    echo "Federation running (base dir $FED_DIR). Each node knows the other two."
    for i in "${!NAMES[@]}"; do
        echo
        echo "${NAMES[i]}"
        echo "  data dir : $(dir_of "$i")"
        echo "  body id  : ${BODY[i]}"
        echo "  peer id  : ${PEER[i]}"
        echo "  p2p      : /ip4/127.0.0.1/tcp/${PORTS[i]}/p2p/${PEER[i]}"
        echo "  API      : 127.0.0.1:$((PORTS[i] + 1))"
        echo "  log      : $(dir_of "$i")/node.log"
    done

    local p j_dir
    p=$(printf '%q' "$CONFER")
    j_dir=$(printf '%q' "$(dir_of 1)")
    cat <<EOF

Try it:
  # a joint agenda of 平湖市政协 with 金山区政协, created on the 平湖 node
  $p --data $(printf '%q' "$(dir_of 0)") agenda new --title '平湖—金山跨界河道水环境联动治理' --with ${BODY[1]}
  # it appears on the 金山 node (not on 嘉善, which is not a member)
  $p --data $j_dir agenda list
  $p --data $j_dir agenda show SPACE_ID
  $p --data $j_dir agenda edit SPACE_ID --summary '...'
  $p --data $j_dir status

  # or: export CONFER_DATA=$j_dir and leave out --data
Status: FED_DIR=$(printf '%q' "$FED_DIR") $0 status
Stop:   FED_DIR=$(printf '%q' "$FED_DIR") $0 stop
EOF
}

cmd_stop() {
    local i dir pid waited stopped=0
    local -a pids=() dirs=()
    for i in "${!NAMES[@]}"; do
        dir=$(dir_of "$i")
        if pid=$(running_pid "$dir"); then
            echo "Stopping ${NAMES[i]} (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
            dirs+=("$dir")
        else
            rm -f "$dir/node.pid"
        fi
    done
    for i in "${!pids[@]}"; do
        pid=${pids[i]}
        waited=0
        while kill -0 "$pid" 2>/dev/null; do
            if ((waited >= STOP_TIMEOUT * 5)); then
                echo "federation: pid $pid did not stop within ${STOP_TIMEOUT}s, sending SIGKILL" >&2
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.2
            waited=$((waited + 1))
        done
        rm -f "${dirs[i]}/node.pid"
        stopped=$((stopped + 1))
    done
    echo "Stopped $stopped node(s)."
}

cmd_status() {
    local i dir pid
    [[ -x $CONFER ]] || die "$CONFER is missing; run '$0 start' first"
    for i in "${!NAMES[@]}"; do
        dir=$(dir_of "$i")
        echo "== ${NAMES[i]} ($dir)"
        if pid=$(running_pid "$dir"); then
            echo "running, pid $pid, API 127.0.0.1:$((PORTS[i] + 1))"
            "$CONFER" --data "$dir" status || echo "(confer status failed)"
        elif [[ -e $dir/keys ]]; then
            echo "stopped"
        else
            echo "not initialised"
        fi
    done
}

case ${1:-start} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
-h | --help | help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown command '$1' (use start, stop or status)" ;;
esac
