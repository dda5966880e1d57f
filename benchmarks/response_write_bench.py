"""What writing a response's head and body in one ``transport.write`` saves over two.

A uvloop server answers each one-byte request with an 80-byte head and an 800-byte body (about
a served list), as one write or as two (what uvicorn's protocols do); eight client threads
drive it ping-pong over loopback, 2,500 requests each. It reports the server thread's CPU spent
in the write calls per response (``time.thread_time``: on loopback the kernel delivers the
segment within the sender's system call, so this is the whole cost of sending), five rounds of
each, alternating.

Run: ``.venv/bin/python benchmarks/response_write_bench.py [PORT]`` (default 18260).
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import sys
import threading
import time
from typing import Any

import uvloop

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 800\r\ncontent-type: application/json\r\n\r\n"
BODY = b"x" * 800
REQUESTS = 20_000
CLIENTS = 8
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 18260


class Answer(asyncio.Protocol):
    """Answers every byte received with one response; times its writes."""

    one_write = True
    spent = 0.0
    count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport  # uvloop's, not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        for _ in range(len(data)):
            started = time.thread_time()
            if Answer.one_write:
                self.transport.write(HEAD + BODY)
            else:
                self.transport.write(HEAD)
                self.transport.write(BODY)
            Answer.spent += time.thread_time() - started
            Answer.count += 1


async def serve(ready: threading.Event, stop: threading.Event) -> None:
    server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", PORT)
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.05)
    server.close()


def client(requests: int) -> None:
    with socket.create_connection(("127.0.0.1", PORT)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        size = len(HEAD) + len(BODY)
        for _ in range(requests):
            sock.sendall(b"g")
            received = 0
            while received < size:
                received += len(sock.recv(65536))


def main() -> None:
    ready, stop = threading.Event(), threading.Event()
    server = threading.Thread(target=lambda: uvloop.run(serve(ready, stop)))
    server.start()
    ready.wait()
    results: dict[bool, list[float]] = {True: [], False: []}
    try:
        for _ in range(5):
            for one_write in (True, False):
                Answer.one_write, Answer.spent, Answer.count = one_write, 0.0, 0
                clients = [
                    threading.Thread(target=client, args=(REQUESTS // CLIENTS,))
                    for _ in range(CLIENTS)
                ]
                for thread in clients:
                    thread.start()
                for thread in clients:
                    thread.join()
                results[one_write].append(Answer.spent / Answer.count * 1e6)
    finally:
        stop.set()
        server.join()
    for one_write, label in ((True, "one write"), (False, "two writes")):
        rounds = ", ".join(f"{value:.1f}" for value in results[one_write])
        print(f"{label}: {statistics.median(results[one_write]):.1f} µs/response ({rounds})")


if __name__ == "__main__":
    main()
