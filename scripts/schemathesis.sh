#!/usr/bin/env bash
# The node's HTTP API fuzzed against its own OpenAPI document: a bounded schemathesis run
# on a real `confer run`.
#
#   scripts/schemathesis.sh [DIR]    DIR keeps the data directory, the node's log, the
#                                    document and the run's report (default: a fresh
#                                    temporary one, removed when the run passed)
#
# 1. Installs schemathesis (PyPI, a pinned version) into a venv under the cache directory
#    if it is not there yet (`python3 -m venv`; `apt-get install python3-venv` if venv is
#    missing, as on a bare Debian CI machine).
# 2. Inits a data directory and starts `confer run` on loopback (libp2p and the API on
#    ports the system picks), reads the address and token from DIR/api.json, and fetches
#    GET /v1/openapi.json with the token (and checks it is refused without).
# 3. Runs schemathesis against the node with the document, with a bounded number of
#    examples per operation and a time limit, checking every response (`--checks all`): no
#    5xx (`not_a_server_error`), status codes, content types, headers and bodies as
#    documented, input the document rules out refused, auth not ignored, unsupported
#    methods refused, and every answer of 400 or more a JSON object with a `code` and a
#    `message` (`refusals_are_json_errors`, scripts/schemathesis_checks.py). Left out:
#    `positive_data_acceptance` (input the document allows must succeed): the API refuses,
#    with a 4xx and a clear error, much that JSON Schema cannot state: a title that is only
#    spaces, 2023-02-30, a multiaddr or a revocation that does not decode, a collection
#    unknown to the model, a record that does not exist, a member key that was frozen. The
#    document states what it can (hex ids and keys, record ids, dates, the year's range).
#    Then the routes under an agenda again, on an agenda with a round, a suggestion and an
#    outcome made through the API first (their ids as the path parameters), so that
#    records are written, the outcome signed, its bundle and the suggestion's trail
#    answered and checked against the document.
#    `POST /v1/members/freeze` runs on its own after the rest: once a generated call
#    freezes the node's only member key (its value taken from `GET /v1/members`) every
#    write is refused, and the rest of the run would no longer reach the write paths.
# 4. Nothing stored from a refused call: the agendas, each agenda's records and the
#    ledger's records the node holds are exactly those the run's successful calls made
#    (counted from the runs' HAR records of every call); then the node is still healthy,
#    stops cleanly on SIGTERM, starts again on the same data (its store opens, nothing
#    reported damaged) and holds the same.
#
# The node and schemathesis run in a network namespace of their own with only loopback
# (`unshare --net`) when that is permitted: the fuzzer's `POST /v1/peers` makes the node
# dial whatever address it generated, and there such a dial cannot leave the machine.
# Where it is not permitted, `POST /v1/peers` is left out of the run (said so).
#
# Environment:
#   CONFER                     the confer binary (default: build the debug one with
#                              `cargo build -p confer-node --bin confer`, in
#                              CARGO_TARGET_DIR or ./target)
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default: 20)
#   SCHEMATHESIS_MAX_TIME      seconds the main schemathesis run may take (default: 60; the
#                              seeded run takes 30 more, the freeze run 20: about two
#                              minutes in all with the node's start-ups)
#   SCHEMATHESIS_VERSION       the version installed (default: 4.32.5)
#   SCHEMATHESIS_SEED          hypothesis seed (default: random; printed)
#   CONFER_CACHE               where the venv goes (default: ${XDG_CACHE_HOME:-~/.cache}/confer)
#
# Exit status: 0 passed, 1 a check failed, 2 set-up error, 77 skipped: schemathesis could
# not be installed (the reason is printed). The last line is `schemathesis: 1 passed, 0
# failed`, `schemathesis: 0 passed, 1 failed` or `schemathesis: skipped: REASON`.

# Functions called through traps look unreachable to shellcheck.
# shellcheck disable=SC2317
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF=$ROOT/scripts/schemathesis.sh

case ${1:-} in
-h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
    exit 0
    ;;
esac

MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-20}
MAX_TIME=${SCHEMATHESIS_MAX_TIME:-60}
VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
SEED=${SCHEMATHESIS_SEED:-$((RANDOM * 32768 + RANDOM))}
for v in MAX_EXAMPLES MAX_TIME SEED; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || {
        echo "schemathesis: $v must be a positive whole number, not '${!v}'" >&2
        exit 2
    }
done
((MAX_TIME <= 300)) || {
    echo "schemathesis: SCHEMATHESIS_MAX_TIME is at most 300 seconds" >&2
    exit 2
}
CACHE=${CONFER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/confer}
VENV=$CACHE/schemathesis-$VERSION
START_S=$(date +%s)

skip() {
    echo "schemathesis: skipped: $*"
    exit 77
}
die() { # set-up error
    echo "schemathesis: set-up error: $*" >&2
    echo "schemathesis: 0 passed, 1 failed"
    exit 2
}

# ---- 1. schemathesis, in a venv (not inside the namespace: it needs the registry) -----

if [[ -z ${SCHEMATHESIS_IN_NETNS:-} ]]; then
    APT_UPDATED=0
    apt_install() { # PACKAGE...
        command -v apt-get >/dev/null || return 1
        [[ $(id -u) == 0 ]] || return 1
        if ((APT_UPDATED == 0)); then
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
            APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    }
    if ! command -v python3 >/dev/null; then
        echo "schemathesis: installing python3"
        apt_install python3 python3-venv || skip "python3 is missing and could not be installed"
    fi
    if ! [[ -x $VENV/bin/schemathesis ]] || ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "$VERSION"; then
        echo "schemathesis: installing schemathesis $VERSION into $VENV"
        rm -rf "$VENV"
        mkdir -p "$CACHE"
        if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
            rm -rf "$VENV"
            echo "schemathesis: python3 -m venv failed; installing python3-venv"
            apt_install python3-venv ||
                apt_install "python3.$(python3 -c 'import sys; print(sys.version_info[1])')-venv" ||
                skip "python3 -m venv does not work and python3-venv could not be installed"
            python3 -m venv "$VENV" || skip "python3 -m venv failed even with python3-venv installed"
        fi
        if ! "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$VERSION"; then
            rm -rf "$VENV"
            skip "pip install schemathesis==$VERSION failed (no access to PyPI?)"
        fi
    fi
    "$VENV/bin/schemathesis" --version >/dev/null 2>&1 || skip "schemathesis in $VENV does not run"
    echo "schemathesis: $("$VENV/bin/schemathesis" --version) from $VENV"

    # ---- the binary ------------------------------------------------------------------
    if [[ -n ${CONFER:-} ]]; then
        [[ $CONFER == */* ]] || CONFER=$(command -v "$CONFER") || die "CONFER: '$CONFER' not found"
        [[ $CONFER == /* ]] || CONFER=$PWD/$CONFER
    else
        echo "schemathesis: cargo build -p confer-node --bin confer"
        (cd "$ROOT" && cargo build -q -p confer-node --bin confer) || die "cargo build failed"
        TARGET_DIR=${CARGO_TARGET_DIR:-target}
        [[ $TARGET_DIR == /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
        CONFER=$TARGET_DIR/debug/confer
    fi
    [[ -x $CONFER ]] || die "$CONFER is not an executable file"
    export CONFER

    # ---- a network namespace with only loopback, where permitted ---------------------
    if unshare --net true 2>/dev/null && unshare --net ip link set lo up 2>/dev/null; then
        echo "schemathesis: running in a network namespace of its own (loopback only)"
        SCHEMATHESIS_IN_NETNS=1 SCHEMATHESIS_SEED=$SEED CONFER_CACHE=$CACHE \
            exec unshare --net "$SELF" "$@"
    fi
    echo "schemathesis: no network namespace here ('unshare --net' is not permitted or 'ip' is missing): POST /v1/peers is left out of the run, so that no generated address is dialled"
    SCHEMATHESIS_IN_NETNS=0
else
    ((SCHEMATHESIS_IN_NETNS == 0)) || ip link set lo up || die "cannot bring up loopback in the namespace"
fi

# ---- 2. the node ----------------------------------------------------------------------

if [[ -n ${1:-} ]]; then
    DIR=$1
    [[ $DIR == /* ]] || DIR=$PWD/$DIR
    mkdir -p "$DIR"
    [[ -z $(ls -A "$DIR") ]] || die "DIR $DIR is not empty"
    TEMP_DIR=0
else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/confer-schemathesis.XXXXXX")
    TEMP_DIR=1
fi
unset CONFER_DATA
DATA=$DIR/node
NODE_PID=

stop_node() { # SIGTERM, 10 s to stop cleanly; prints the exit status
    local status=0
    [[ -n $NODE_PID ]] || return 0
    kill -TERM "$NODE_PID" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$NODE_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$NODE_PID" 2>/dev/null; then
        kill -KILL "$NODE_PID" 2>/dev/null || true
        status=137
    fi
    wait "$NODE_PID" 2>/dev/null || status=$?
    NODE_PID=
    return "$status"
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_node || true
    if ((status == 1)) && [[ -s $DATA/node.log ]]; then
        echo "---- last lines of $DATA/node.log"
        tail -n 20 "$DATA/node.log" | sed 's/^/    /'
    fi
    if ((status == 0)) && ((TEMP_DIR)); then
        rm -rf "$DIR"
    elif ((status != 77)); then
        echo "schemathesis: data directory, log, document and report are in $DIR"
    fi
    if ((status == 0)); then
        echo "schemathesis: passed in $(($(date +%s) - START_S))s"
        echo "schemathesis: 1 passed, 0 failed"
    elif ((status == 1)); then
        echo "schemathesis: 0 passed, 1 failed"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'echo "schemathesis: interrupted"; exit 1' INT TERM

fail() {
    echo "FAIL  $*"
    exit 1
}

PY=$VENV/bin/python
CHECKS=$ROOT/scripts/schemathesis_checks.py

RUST_LOG=warn LANG=C "$CONFER" --data "$DATA" init --name 联动协商测试政协 --member 秘书处 --json \
    >"$DIR/init.json" </dev/null || die "confer init failed"

start_node() {
    rm -f "$DATA/api.json"
    RUST_LOG=${RUST_LOG:-info,libp2p=warn} NO_COLOR=1 "$CONFER" --data "$DATA" run \
        --listen /ip4/127.0.0.1/tcp/0 --api 127.0.0.1:0 >>"$DATA/node.out" 2>>"$DATA/node.log" </dev/null &
    NODE_PID=$!
    local waited=0
    until [[ -s $DATA/api.json ]] && BASE=http://$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["addr"])' "$DATA/api.json" 2>/dev/null); do
        kill -0 "$NODE_PID" 2>/dev/null || fail "confer run exited (its log is below)"
        ((waited < 300)) || fail "confer run wrote no api.json within 30 s"
        sleep 0.1
        waited=$((waited + 1))
    done
    TOKEN=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$DATA/api.json")
}

# get PATH [TOKEN]: the body of a GET, or fails with the status.
get() {
    "$PY" - "$BASE$1" "${2:-}" <<'PY'
import sys, urllib.request, urllib.error
request = urllib.request.Request(sys.argv[1])
if sys.argv[2]:
    request.add_header("Authorization", "Bearer " + sys.argv[2])
try:
    with urllib.request.urlopen(request, timeout=30) as r:
        sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(), file=sys.stderr)
    sys.exit(1)
PY
}

start_node
echo "schemathesis: node runs, API at $BASE (binary $CONFER)"
get /v1/status "$TOKEN" >/dev/null || fail "GET /v1/status does not answer"
if get /v1/openapi.json >/dev/null 2>"$DIR/refused.txt"; then
    fail "GET /v1/openapi.json answered without the token"
fi
grep -q '^401 .*"code":"unauthorized"' "$DIR/refused.txt" || fail "GET /v1/openapi.json without the token: $(cat "$DIR/refused.txt")"
get /v1/openapi.json "$TOKEN" >"$DIR/openapi.json" || fail "GET /v1/openapi.json failed"
OPERATIONS=$("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for item in d["paths"].values() for m in item if m in ("get", "post", "put", "patch", "delete")))' "$DIR/openapi.json")
echo "schemathesis: the document lists $OPERATIONS operations"

# ---- 3. the run ---------------------------------------------------------------------------

EXCLUDE=()
if ((SCHEMATHESIS_IN_NETNS == 0)); then
    EXCLUDE=(--exclude-operation-id add_peer)
fi
# st NAME SECONDS ARGS...: one schemathesis run in DIR/NAME (where a schemathesis.toml may
# set parameters), its output in DIR/NAME.txt, its calls in DIR/NAME.har.
st() {
    local name=$1 seconds=$2 status=0
    shift 2
    mkdir -p "$DIR/$name"
    (
        cd "$DIR/$name"
        PYTHONPATH=$ROOT/scripts SCHEMATHESIS_HOOKS=schemathesis_checks NO_COLOR=1 \
            timeout -k 10 $((seconds + 60)) "$VENV/bin/schemathesis" run "$DIR/openapi.json" \
            --url "$BASE" \
            --header "Authorization: Bearer $TOKEN" \
            --checks all \
            --exclude-checks positive_data_acceptance \
            --max-examples "$MAX_EXAMPLES" \
            --max-time "$seconds" \
            --seed "$SEED" \
            --workers 1 \
            --request-timeout 30 \
            --report har --report-har-path "$DIR/$name.har" \
            --output-truncate true \
            "$@"
    ) 2>&1 | tee "$DIR/$name.txt" || status=$?
    kill -0 "$NODE_PID" 2>/dev/null || fail "the node exited during the run"
    ((status == 0)) || fail "schemathesis found problems (exit $status; its report is above)"
}

echo "schemathesis: at most $MAX_EXAMPLES examples per operation and phase, at most ${MAX_TIME}s, seed $SEED"
st calls "$MAX_TIME" --exclude-operation-id freeze_member ${EXCLUDE[@]+"${EXCLUDE[@]}"}
# The routes under an agenda, with an agenda, a suggestion and an outcome that exist: a
# generated id is never one, so the run above reaches them only to be told 404.
SEEDED=$("$PY" "$CHECKS" seed "$BASE" "$TOKEN" "$DIR/seed.har") || fail "could not make the agenda, round, suggestion and outcome to seed the run"
mkdir -p "$DIR/seeded"
"$PY" - "$SEEDED" >"$DIR/seeded/schemathesis.toml" <<'PY'
import json, sys
ids = json.loads(sys.argv[1])
print("[parameters]")
for name, key in (("id", "agenda"), ("sid", "suggestion"), ("oid", "outcome")):
    print(f'"path.{name}" = "{ids[key]}"')
PY
echo "schemathesis: the routes under an agenda again, on agenda $("$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["agenda"][:16] + "…, suggestion " + d["suggestion"] + ", outcome " + d["outcome"])' "$SEEDED")"
st seeded 30 --phases coverage,fuzzing --include-path-regex '^/v1/agendas/\{id\}'

echo "schemathesis: POST /v1/members/freeze on its own"
st freeze 20 --include-operation-id freeze_member --phases coverage,fuzzing

# ---- 4. nothing stored from a refused call; the store opens again -------------------------

[[ -s $DIR/calls.har && -s $DIR/seeded.har && -s $DIR/freeze.har ]] || fail "schemathesis wrote no record of its calls"
"$PY" "$CHECKS" verify "$BASE" "$TOKEN" "$DIR/calls.har" "$DIR/seed.har" "$DIR/seeded.har" "$DIR/freeze.har" ||
    fail "the node holds something no successful call made"
get /v1/status "$TOKEN" >"$DIR/status.json" || fail "GET /v1/status does not answer after the run"
BEFORE=$("$PY" "$CHECKS" counts "$BASE" "$TOKEN") || fail "the node's holdings cannot be read"
stop_status=0
stop_node || stop_status=$?
((stop_status == 0)) || fail "the node did not stop cleanly on SIGTERM (exit $stop_status)"
start_node
AFTER=$("$PY" "$CHECKS" counts "$BASE" "$TOKEN") || fail "the restarted node's holdings cannot be read"
[[ $AFTER == "$BEFORE" ]] || fail "after a restart the node holds $AFTER, before it held $BEFORE"
damaged=$(get /v1/status "$TOKEN" | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)["damaged"]))') ||
    fail "GET /v1/status does not answer after the restart"
((damaged == 0)) || fail "the restarted node reports $damaged damaged record(s)"
if grep -h panicked "$DATA/node.log"; then
    fail "the node panicked (above)"
fi
echo "ok    the node stopped cleanly, started again on its data (nothing damaged) and holds the same"
exit 0
