"""Records the first bytes a client sends to 127.0.0.1, for capture-flows.sh.

    capture_listener.py tcp|udp|udp-many FILE

Prints the port once bound, then records: over TCP what arrives on the first
connection until the client is idle for 0.7 s; over UDP the first datagram;
`udp-many` every datagram of the first 1.5 s, one after the other.
"""
import socket
import sys
import time

kind, path = sys.argv[1], sys.argv[2]
if kind == "tcp":
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(5)
    print(srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    conn.settimeout(0.7)
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    conn.close()
else:
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    print(srv.getsockname()[1], flush=True)
    srv.settimeout(5)
    data, _ = srv.recvfrom(65536)
    if kind == "udp-many":
        end = time.monotonic() + 1.5
        srv.settimeout(0.1)
        while time.monotonic() < end:
            try:
                more, _ = srv.recvfrom(65536)
            except socket.timeout:
                continue
            # Only the first flight: a retransmission repeats it.
            if time.monotonic() < end - 1.0:
                data += more
with open(path, "wb") as f:
    f.write(data)
