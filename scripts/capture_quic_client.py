"""Sends aioquic's first QUIC Initials to 127.0.0.1:PORT with server NAME and
ALPNS protocols (1: h3; more makes the ClientHello span two Initials).
For capture-flows.sh."""
import asyncio
import sys

from aioquic.asyncio import connect
from aioquic.quic.configuration import QuicConfiguration

port, name, alpns = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
# aioquic sends the name as given: give it the A-label of an IDN, as a
# browser would.
name = name.encode("idna").decode("ascii") if not name.isascii() else name


async def main():
    protos = ["h3"] + [f"proto-{i:04}" for i in range(alpns - 1)]
    cfg = QuicConfiguration(is_client=True, alpn_protocols=protos, server_name=name)
    try:
        async with connect("127.0.0.1", port, configuration=cfg, wait_connected=True):
            pass
    except Exception:
        pass


try:
    asyncio.run(asyncio.wait_for(main(), 0.8))
except Exception:
    pass
