"""A TCP proxy between the live server and PostgreSQL, which a test can cut."""

from __future__ import annotations

import socket
import threading


class TCPProxy:
    """Forwards 127.0.0.1:<port> to an upstream address, one thread pair per connection.

    ``cut("stopped")`` drops every connection and refuses new ones, as a stopped
    PostgreSQL would; ``cut("unreachable")`` drops every connection and lets new
    ones hang unanswered, as an unreachable host would; ``restore()`` forwards again
    on the same port.
    """

    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.state = "open"
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._held: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> None:
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            with self._lock:
                if self.state == "unreachable":
                    self._held.append(client)
                    continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
            for source, target in (pair, pair[::-1]):
                threading.Thread(target=self._pump, args=(source, target, pair),
                                 daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, pair) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(pair)

    def _drop(self, pair) -> None:
        with self._lock:
            self._pairs.discard(pair)
        for sock in pair:
            _close(sock)

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def cut(self, how: str = "stopped") -> None:
        assert how in ("stopped", "unreachable"), how
        with self._lock:
            self.state = how
            pairs = list(self._pairs)
        if how == "stopped" and self._listener is not None:
            _close(self._listener)
            self._listener = None
        for pair in pairs:
            self._drop(pair)

    def restore(self) -> None:
        with self._lock:
            self.state = "open"
            held, self._held = self._held, []
        for sock in held:
            _close(sock)
        if self._listener is None:
            self._listen()

    def stop(self) -> None:
        self.cut("stopped")
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
