"""A loopback web site whose answers a hostile test writes itself: fixed bodies, chunked floods, trickles.

    with HostileSite() as site:
        site.page("/list.html", html)                       # a 200 with a Content-Length
        site.flood("/big.bin", total=60 << 20)              # chunked, no Content-Length, 60 MB
        site.trickle("/slow.bin", every=0.1, seconds=20)    # a chunk of 1 KB every 0.1 s
        url = site.url + "/big.bin"; ...; site.sent["/big.bin"]  # bytes the server got onto the wire

It is a real HTTP/1.1 server (`http.server`), so what the client does with a body it does not want
(stop reading, close the connection) shows in what the server managed to send.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Body = Callable[[], Iterator[bytes]]


class HostileSite:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[dict[str, str], bytes | Body]] = {}
        self.sent: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                if path not in site.routes:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers, body = site.routes[path]
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                if isinstance(body, bytes):
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    site.sent[path] += len(body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in body():
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                        site.sent[path] += len(chunk)
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client stopped reading: what the test wants to see

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def page(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.routes[path] = ({"Content-Type": content_type}, body)

    def flood(self, path: str, *, total: int, chunk: int = 1 << 16) -> None:
        """A chunked body of `total` bytes without Content-Length."""

        def body() -> Iterator[bytes]:
            block = b"x" * chunk
            for _ in range(total // chunk):
                yield block

        self.routes[path] = ({"Content-Type": "application/octet-stream"}, body)

    def trickle(self, path: str, *, every: float, seconds: float, chunk: int = 1024) -> None:
        """A chunked body that sends `chunk` bytes every `every` seconds for `seconds`."""

        def body() -> Iterator[bytes]:
            stop = time.monotonic() + seconds
            while time.monotonic() < stop:
                yield b"y" * chunk
                time.sleep(every)

        self.routes[path] = ({"Content-Type": "application/octet-stream"}, body)

    def __enter__(self) -> HostileSite:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
