#!/usr/bin/python3
"""HTTP server for chromium_page.html on the client namespace's loopback (standard library only).

  GET  /         the page
  GET  /config   {"url": "turn:...", "username", "credential", "messages", "openTimeoutMs"} from the command line
  POST /log      a progress line from the page, printed
  POST /result   the page's report: written to `--result FILE`, then the server exits

127.0.0.1 is a secure context, so the page may use WebRTC without TLS.
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGE = Path(__file__).resolve().parent / "chromium_page.html"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--turn-url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--credential", required=True)
    parser.add_argument("--messages", type=int, default=35)
    parser.add_argument("--open-timeout-ms", type=int, default=30000)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    config = json.dumps({"url": args.turn_url, "username": args.username, "credential": args.credential,
                         "messages": args.messages, "openTimeoutMs": args.open_timeout_ms}).encode()
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
            if self.path == "/":
                self._reply(PAGE.read_bytes(), "text/html; charset=utf-8")
            elif self.path == "/config":
                self._reply(config, "application/json")
            else:
                self.send_error(404)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/log":
                print(f"page: {body.decode(errors='replace')}", flush=True)
                self._reply(b"", "text/plain")
            elif self.path == "/result":
                Path(args.result).write_bytes(body)
                self._reply(b"", "text/plain")
                done.set()
            else:
                self.send_error(404)

        def log_message(self, fmt: str, *fmt_args) -> None:
            print(f"http: {fmt % fmt_args}", flush=True)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Path(args.ready).write_text("ready\n")
    done.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
