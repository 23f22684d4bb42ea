#!/usr/bin/env python3
"""A minimal SMTP sink for throughput benchmarks: answers every command with success, reads
DATA in large chunks (no per-line parsing), counts messages, connections and bytes, and
discards the mail. Prints "READY <port>" when listening; on SIGTERM/SIGINT prints the counts.
Not a test server: tests/support/smtp_server.py (aiosmtpd) is the real one."""
import asyncio
import signal
import sys

stats = {"connections": 0, "messages": 0, "bytes": 0}


async def session(reader, writer):
    stats["connections"] += 1
    writer.write(b"220 sink ESMTP\r\n")
    buf = b""
    in_data = False
    while True:
        chunk = await reader.read(1 << 16)
        if not chunk:
            break
        buf += chunk
        while True:
            if in_data:
                end = buf.find(b"\r\n.\r\n")
                if end < 0:
                    # keep the tail in case the terminator is split across reads
                    stats["bytes"] += max(0, len(buf) - 4)
                    buf = buf[-4:]
                    break
                stats["bytes"] += end
                buf = buf[end + 5:]
                in_data = False
                stats["messages"] += 1
                writer.write(b"250 2.0.0 accepted\r\n")
                continue
            nl = buf.find(b"\r\n")
            if nl < 0:
                break
            line, buf = buf[:nl], buf[nl + 2:]
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                in_data = True
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                writer.close()
                return
            else:
                writer.write(b"250 OK\r\n")
        await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(session, "127.0.0.1", 0)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    print(f"messages={stats['messages']} connections={stats['connections']} bytes={stats['bytes']}", flush=True)


asyncio.run(main())
