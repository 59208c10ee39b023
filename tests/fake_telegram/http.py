"""The same fake over loopback HTTP, for PTB's real HTTPXRequest (and anything else).

A stdlib ThreadingHTTPServer in a daemon thread; every request thread calls into the shared
FakeTelegram core, so long polls simply block their own thread.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .api import FakeTelegram
from .faults import FrontendError, ResponseLost
from .state import split_token


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-poll (e.g. a bot process stopped) is normal, not news."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeTelegramServer:
    """Serve a FakeTelegram at http://127.0.0.1:<port>/bot<token>/<method>."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        if self._server is None:
            raise RuntimeError("server not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """Pass as Bot(base_url=...)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Pass as Bot(base_file_url=...)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> None:
        """Bind a free loopback port and serve in a daemon thread."""
        handler = type("_BoundHandler", (_Handler,), {"fake": self.fake})
        server = _QuietServer(("127.0.0.1", 0), handler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """End long polls, stop serving and release the port."""
        if self._server is None:
            return
        self.fake.abort_long_polls()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> FakeTelegramServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    timeout = 60
    fake: FakeTelegram

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the fake's call log instead."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        body = self._read_body()
        if split.path.startswith("/file/"):
            token, file_path = split_token(split.path[len("/file") :])
            status, data = self.fake.file_request(token, file_path)
            kind = "application/octet-stream" if status == 200 else "application/json"
            self._respond(status, data, kind)
            return
        token, method = split_token(split.path)
        params: dict[str, Any] = {
            k: v[-1] for k, v in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()
        }
        files: dict[str, tuple[str, bytes, str]] = {}
        content_type = self.headers.get("Content-Type", "")
        mime = content_type.split(";", 1)[0].strip().lower()
        try:
            if mime == "application/json" and body:
                decoded = json.loads(body)
                if isinstance(decoded, dict):
                    params.update(decoded)
            elif mime == "application/x-www-form-urlencoded":
                form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
                params.update({k: v[-1] for k, v in form.items()})
            elif mime == "multipart/form-data":
                fields, files = parse_multipart(body, content_type)
                params.update(fields)
        except (ValueError, UnicodeDecodeError):
            answer = {"ok": False, "error_code": 400, "description": "Bad Request: invalid body"}
            self._respond(400, json.dumps(answer).encode(), "application/json")
            return
        try:
            status, answer = self.fake.api_request(token, method, params, files)
        except FrontendError as exc:
            self._respond(exc.status, exc.body, "text/html")
            return
        except ResponseLost:
            self.close_connection = True  # hang up without an answer
            return
        self._respond(status, json.dumps(answer).encode(), "application/json")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _respond(self, status: int, data: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError:
            self.close_connection = True  # the client gave up waiting; nothing to tell it


_PARAM_RE = re.compile(r'([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))')


def _header_params(value: str) -> dict[str, str]:
    params = {}
    for match in _PARAM_RE.finditer(value):
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        # httpx (HTML5 form encoding) writes " as %22 and doubles backslashes.
        params[match.group(1).lower()] = raw.replace("%22", '"').replace("\\\\", "\\")
    return params


def parse_multipart(
    body: bytes, content_type: str
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """Split a multipart/form-data body into text fields and (filename, bytes, mime) files."""
    boundary = _header_params(content_type).get("boundary")
    if not boundary:
        raise ValueError("multipart body without boundary")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in (b"\r\n" + body).split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            mime = headers.get("content-type", "application/octet-stream")
            files[name] = (disposition["filename"], content, mime)
        else:
            fields[name] = content.decode("utf-8")
    return fields, files
