#!/usr/bin/env bash
# Captures the first bytes real clients send, for tests/flow_*.rs:
# TLS ClientHellos from curl, `openssl s_client` and Python's `ssl`; HTTP
# requests from curl (direct, and through a proxy for absolute-form and
# CONNECT); DNS queries from dig over UDP and TCP; QUIC Initials from
# aioquic. Each client talks to a listener on 127.0.0.1 that records what
# arrives and answers nothing, so the handshake fails after the first flight.
#
#   scripts/capture-flows.sh [DIR]     (default tests/fixtures/flow)
#
# Needs: curl, openssl, python3, dig (`apt-get install -y bind9-dnsutils`),
# and for QUIC `pip install aioquic`. Writes DIR/*.bin and DIR/MANIFEST.tsv
# (file, transport, protocol, client, the name the client was given).
# The bytes differ from run to run (random values, key shares); the names
# in them do not.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/tests/fixtures/flow}
mkdir -p "$out"
manifest="$out/MANIFEST.tsv"
printf 'file\ttransport\tprotocol\tclient\tname\n' >"$manifest"
listener="$root/scripts/capture_listener.py"

# listen PROTO FILE: records what arrives, in the background; prints the
# port once bound.
listen() {
    local fifo
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    python3 "$listener" "$1" "$2" >"$fifo" &
    listener_pid=$!
    read -r port <"$fifo"
    rm -f "$fifo"
}

record() { # FILE TRANSPORT PROTOCOL CLIENT NAME
    if [[ ! -s "$out/$1" ]]; then
        echo "capture-flows: nothing recorded for $1" >&2
        exit 1
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$manifest"
    echo "$1: $(stat -c %s "$out/$1") bytes ($4, $5)"
}

# The server names: plain, upper case, a trailing dot, IDN, deep, long.
names=(
    example.com
    WWW.Example.COM
    example.org.
    bücher.example
    a.b.c.d.e.f.deep.example.net
    this-is-a-rather-long-label-for-a-server-name-0123456789.example.com
)

slug() { printf '%s' "$1" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9' '-' | sed 's/-*$//'; }

n=0
for name in "${names[@]}"; do
    n=$((n + 1))
    s=$(slug "$name")

    f="tls-curl-$n-$s.bin"
    listen tcp "$out/$f"
    # curl gets the name in the URL and connects to the listener.
    curl -sk --max-time 2 --connect-to "::127.0.0.1:$port" "https://$name/" >/dev/null 2>&1 || true
    wait "$listener_pid"
    record "$f" tcp tls curl "$name"

    f="tls-openssl-$n-$s.bin"
    listen tcp "$out/$f"
    timeout 3 openssl s_client -connect "127.0.0.1:$port" -servername "$name" </dev/null >/dev/null 2>&1 || true
    wait "$listener_pid"
    record "$f" tcp tls openssl "$name"

    f="tls-python-$n-$s.bin"
    listen tcp "$out/$f"
    python3 - "$port" "$name" <<'PY' || true
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(["h2", "http/1.1"])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    try:
        ctx.wrap_socket(s, server_hostname=sys.argv[2])
    except (OSError, ssl.SSLError):
        pass
PY
    wait "$listener_pid"
    record "$f" tcp tls python-ssl "$name"

    f="http-curl-$n-$s.bin"
    listen tcp "$out/$f"
    curl -s --max-time 2 --connect-to "::127.0.0.1:$port" "http://$name/path/to?q=1" >/dev/null 2>&1 || true
    wait "$listener_pid"
    record "$f" tcp http curl "$name"

    f="http-curl-proxy-$n-$s.bin"
    listen tcp "$out/$f"
    curl -s --max-time 2 -x "http://127.0.0.1:$port" "http://$name/proxied/page.html" >/dev/null 2>&1 || true
    wait "$listener_pid"
    record "$f" tcp http curl-proxy "$name"

    f="http-curl-connect-$n-$s.bin"
    listen tcp "$out/$f"
    curl -s --max-time 2 -x "http://127.0.0.1:$port" "https://$name/" >/dev/null 2>&1 || true
    wait "$listener_pid"
    record "$f" tcp http curl-connect "$name"

    for t in udp tcp; do
        f="dns-dig-$t-$n-$s.bin"
        listen "$t" "$out/$f"
        flag=+notcp
        [[ $t == tcp ]] && flag=+tcp
        timeout 3 dig @127.0.0.1 -p "$port" "$name" AAAA $flag +tries=1 +timeout=1 >/dev/null 2>&1 || true
        wait "$listener_pid"
        record "$f" "$t" dns dig "$name"
    done

    if python3 -c 'import aioquic' 2>/dev/null; then
        f="quic-aioquic-$n-$s.bin"
        listen udp-many "$out/$f"
        python3 "$root/scripts/capture_quic_client.py" "$port" "$name" 1 || true
        wait "$listener_pid"
        record "$f" udp quic aioquic "$name"
    fi
done

# Without a server name.
f="tls-openssl-noname.bin"
listen tcp "$out/$f"
timeout 3 openssl s_client -connect "127.0.0.1:$port" -noservername </dev/null >/dev/null 2>&1 || true
wait "$listener_pid"
record "$f" tcp tls openssl ""

# A ClientHello over 1500 bytes, as post-quantum key shares make them:
# Python's ssl with 200 ALPN protocols.
f="tls-python-big.bin"
listen tcp "$out/$f"
python3 - "$port" <<'PY' || true
import socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols([f"proto-{i:04}" for i in range(200)])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    try:
        ctx.wrap_socket(s, server_hostname="big.example.com")
    except (OSError, ssl.SSLError):
        pass
PY
wait "$listener_pid"
record "$f" tcp tls python-ssl big.example.com

# A QUIC ClientHello over several Initial packets (aioquic with 200 ALPNs).
if python3 -c 'import aioquic' 2>/dev/null; then
    f="quic-aioquic-big.bin"
    listen udp-many "$out/$f"
    python3 "$root/scripts/capture_quic_client.py" "$port" big.example.com 200 || true
    wait "$listener_pid"
    record "$f" udp quic aioquic big.example.com
fi
