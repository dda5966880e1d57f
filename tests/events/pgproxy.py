"""A TCP proxy in front of the PostgreSQL server that a test can switch off and on.

Switching it off closes every open connection and refuses new ones (they are accepted and
closed at once), which is what a client sees when the server goes away; switching it on lets
connections through again, as when the server is back.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class SwitchableProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream`` while ``up``; see the module docstring."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.up = True
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._listener.settimeout(0.05)
        self._closed = False
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, server]
            self._spawn(self._pump, client, server)
            self._spawn(self._pump, server, client)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        """Cut every connection and refuse new ones."""
        self.up = False
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop listening and release every socket."""
        self.down()
        self._closed = True
        for thread in self._threads:
            thread.join(5)
        self._listener.close()
        with self._lock:
            for sock in self._open:
                sock.close()
