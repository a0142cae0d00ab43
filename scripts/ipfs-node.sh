#!/usr/bin/env bash
# Install, start, stop and connect local js-ipfs nodes (npm ipfs@0.66-era:
# ipfs-daemon 0.16 / ipfs-core 0.18 / libp2p 0.42) used by the Rust test suite
# as "a real IPFS node". Every node listens on 127.0.0.1 only and dials
# nothing but loopback addresses.
#
#   scripts/ipfs-node.sh install
#   scripts/ipfs-node.sh start NAME API_PORT SWARM_PORT   # prints http://127.0.0.1:API_PORT
#   scripts/ipfs-node.sh stop [NAME]                      # no NAME: stop all
#   scripts/ipfs-node.sh connect NAME_FROM NAME_TO
#   scripts/ipfs-node.sh start-pair   # nodes A and B, B connected to A; prints
#                                     # `export POUW_IPFS_A=... POUW_IPFS_B=...` (for eval)
#     ports: POUW_IPFS_PORT_BASE (default 45100): A's API +1, swarm +2; B's API +11, swarm +12
#
# State: target/ipfs-node/NAME (repo, wiped on every start), NAME.pid, NAME.log,
#        NAME.api (API URL).
# Needs: node >= 18 (tested with 20), npm, curl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG_DIR="$ROOT/scripts/ipfs-node"
MODULES="$PKG_DIR/node_modules"
STAMP="$MODULES/.ipfs-node-lock.sha256"
STATE_DIR="$ROOT/target/ipfs-node"
START_TIMEOUT_S="${IPFS_NODE_START_TIMEOUT:-60}"

die() { echo "ipfs-node: $*" >&2; exit 1; }
log() { echo "ipfs-node: $*" >&2; }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not found in PATH"; }

valid_name() {
    [[ "$1" =~ ^[A-Za-z0-9_.-]+$ && "$1" != "." && "$1" != ".." ]] || die "invalid node name '$1'"
}

valid_port() {
    [[ "$1" =~ ^[0-9]+$ ]] && (( $1 > 0 && $1 < 65536 )) || die "invalid port '$1'"
}

lock_hash() {
    # The stamp covers the lock file, the manifest and the node version
    # (native modules are not built, but keep it honest anyway).
    { cat "$PKG_DIR/package-lock.json" "$PKG_DIR/package.json"; node --version; } | sha256sum | cut -d' ' -f1
}

cmd_install() {
    need node; need npm
    [[ -f "$PKG_DIR/package-lock.json" ]] || die "missing $PKG_DIR/package-lock.json"
    local want
    want="$(lock_hash)"
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
        log "node_modules up to date (lock hash $want)"
        return 0
    fi
    log "installing js-ipfs into $MODULES (npm ci)"
    rm -f "$STAMP"
    # --ignore-scripts: nothing we use needs an install script (optional
    # native deps such as wrtc/electron are not used by daemon.mjs).
    (cd "$PKG_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
    echo "$want" > "$STAMP"
    log "installed"
}

ensure_installed() {
    if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$(lock_hash)" ]]; then
        cmd_install
    fi
}

pid_alive() { [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null; }

read_pid() {
    local f="$STATE_DIR/$1.pid"
    [[ -f "$f" ]] && cat "$f" || true
}

stop_one() {
    local name="$1" pid
    pid="$(read_pid "$name")"
    if pid_alive "$pid"; then
        # only kill it if it really is our daemon
        if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "daemon.mjs"; then
            kill -TERM "$pid" 2>/dev/null || true
            local i
            for ((i = 0; i < 150; i++)); do
                pid_alive "$pid" || break
                sleep 0.1
            done
            if pid_alive "$pid"; then
                log "node '$name' (pid $pid) did not exit after SIGTERM, sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
                for ((i = 0; i < 50; i++)); do
                    pid_alive "$pid" || break
                    sleep 0.1
                done
            fi
            log "stopped node '$name' (pid $pid)"
        else
            log "pid $pid of node '$name' is not an ipfs-node daemon; not killing it"
        fi
    fi
    rm -f "$STATE_DIR/$name.pid" "$STATE_DIR/$name.api"
}

cmd_stop() {
    if (( $# > 1 )); then die "usage: stop [NAME]"; fi
    if (( $# == 1 )); then
        valid_name "$1"
        stop_one "$1"
        return 0
    fi
    [[ -d "$STATE_DIR" ]] || return 0
    local f
    shopt -s nullglob
    for f in "$STATE_DIR"/*.pid; do
        stop_one "$(basename "$f" .pid)"
    done
}

api_post() {
    # api_post API_URL PATH -> body on stdout; fails on HTTP error
    curl -sS --fail --max-time 10 -X POST "$1/api/v0/$2"
}

cmd_start() {
    (( $# == 3 )) || die "usage: start NAME API_PORT SWARM_PORT"
    local name="$1" api_port="$2" swarm_port="$3"
    valid_name "$name"; valid_port "$api_port"; valid_port "$swarm_port"
    [[ "$api_port" != "$swarm_port" ]] || die "API_PORT and SWARM_PORT must differ"
    need node; need curl
    ensure_installed

    mkdir -p "$STATE_DIR"
    stop_one "$name"
    local repo="$STATE_DIR/$name" logf="$STATE_DIR/$name.log" api="http://127.0.0.1:$api_port"
    rm -rf "$repo"
    : > "$logf"

    if curl -s --max-time 2 -o /dev/null -X POST "$api/api/v0/id"; then
        die "something already answers on $api; refusing to start node '$name'"
    fi

    # setsid: own session, so the daemon survives the caller's shell and
    # terminal signals; the pid we record is the node process itself.
    setsid node "$PKG_DIR/daemon.mjs" "$repo" "$api_port" "$swarm_port" \
        </dev/null >>"$logf" 2>&1 &
    local pid=$!
    echo "$pid" > "$STATE_DIR/$name.pid"

    local deadline=$((SECONDS + START_TIMEOUT_S))
    while :; do
        if ! pid_alive "$pid"; then
            rm -f "$STATE_DIR/$name.pid"
            log "node '$name' exited during start-up; last lines of $logf:"
            tail -n 30 "$logf" >&2 || true
            exit 1
        fi
        if curl -s --fail --max-time 2 -o /dev/null -X POST "$api/api/v0/id"; then
            break
        fi
        if (( SECONDS >= deadline )); then
            log "node '$name' did not answer on $api within ${START_TIMEOUT_S}s; last lines of $logf:"
            tail -n 30 "$logf" >&2 || true
            stop_one "$name"
            exit 1
        fi
        sleep 0.2
    done
    echo "$api" > "$STATE_DIR/$name.api"
    echo "$api"
}

api_of() {
    local f="$STATE_DIR/$1.api" pid
    pid="$(read_pid "$1")"
    [[ -f "$f" ]] && pid_alive "$pid" || die "node '$1' is not running (start it first)"
    cat "$f"
}

json_field() {
    # json_field FIELD < json  (top-level field; arrays are printed one per line)
    node -e '
        let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
            const v = JSON.parse(s)[process.argv[1]];
            if (Array.isArray(v)) { for (const x of v) console.log(typeof x === "object" ? JSON.stringify(x) : x) }
            else if (v !== undefined) console.log(typeof v === "object" ? JSON.stringify(v) : v);
        })' "$1"
}

peers_of() {
    # peer ids that node at API $1 is connected to, one per line
    api_post "$1" "swarm/peers" | node -e '
        let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
            for (const p of (JSON.parse(s).Peers || [])) console.log(p.Peer)
        })'
}

cmd_connect() {
    (( $# == 2 )) || die "usage: connect NAME_FROM NAME_TO"
    local from="$1" to="$2"
    valid_name "$from"; valid_name "$to"
    [[ "$from" != "$to" ]] || die "cannot connect a node to itself"
    need node; need curl
    local api_from api_to id_to_json id_from id_to addr
    api_from="$(api_of "$from")"
    api_to="$(api_of "$to")"
    id_to_json="$(api_post "$api_to" id)"
    id_to="$(json_field ID <<<"$id_to_json")"
    id_from="$(api_post "$api_from" id | json_field ID)"
    addr="$(json_field Addresses <<<"$id_to_json" | grep -E '^/ip4/127\.[0-9.]+/tcp/[0-9]+/p2p/' | head -n1 || true)"
    [[ -n "$addr" ]] || die "node '$to' has no loopback TCP address: $id_to_json"

    local out
    out="$(curl -sS --max-time 30 -X POST --get --data-urlencode "arg=$addr" "$api_from/api/v0/swarm/connect")" \
        || die "swarm connect $from -> $addr failed"
    log "swarm connect $from -> $addr: $out"

    local deadline=$((SECONDS + 15))
    while :; do
        if peers_of "$api_from" | grep -qxF "$id_to" && peers_of "$api_to" | grep -qxF "$id_from"; then
            echo "connected $from ($id_from) <-> $to ($id_to)"
            return 0
        fi
        (( SECONDS < deadline )) || die "nodes '$from' and '$to' do not both list each other as peers"
        sleep 0.2
    done
}

cmd_start_pair() {
    (( $# == 0 )) || die "usage: start-pair"
    local base="${POUW_IPFS_PORT_BASE:-45100}" a b
    valid_port "$base"
    a="$(cmd_start A $((base + 1)) $((base + 2)))"
    b="$(cmd_start B $((base + 11)) $((base + 12)))"
    cmd_connect B A >&2
    echo "export POUW_IPFS_A=$a POUW_IPFS_B=$b"
}

main() {
    (( $# >= 1 )) || die "usage: $0 install | start NAME API_PORT SWARM_PORT | stop [NAME] | connect FROM TO | start-pair"
    local cmd="$1"; shift
    case "$cmd" in
        install) (( $# == 0 )) || die "usage: install"; cmd_install ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        connect) cmd_connect "$@" ;;
        start-pair) cmd_start_pair "$@" ;;
        *) die "unknown command '$cmd'" ;;
    esac
}

main "$@"
