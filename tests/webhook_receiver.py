"""A real HTTP endpoint on 127.0.0.1 that records what webhooks POST to it.

    with Receiver() as hook:            # answers 204 to everything
        hook.responses = [500, 500]     # then these status codes first, in order
        hook.hold.set()/clear()         # while clear, requests wait (a slow endpoint)
        hook.url, hook.requests, hook.wait_for(1)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, default_status: int = 204):
        self.default_status = default_status
        self.responses: list[int] = []
        self.requests: list[Received] = []
        self.arrived = threading.Event()
        self.hold = threading.Event()
        self.hold.set()
        self.extra_headers: dict[str, str] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                receiver.arrived.set()
                receiver.hold.wait(timeout=120)
                status = receiver.responses.pop(0) if receiver.responses \
                    else receiver.default_status
                self.send_response(status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/coalition"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.requests
