#!/usr/bin/env python3
"""A loopback logs intake for scenario 4 of `make bench`: accepts every POST,
reads and discards its body, answers 202 (as the Datadog intake does).

    python3 bench/intake.py [PORT]      # prints "PORT <n>" once listening

On SIGTERM it prints one JSON line with the requests and bytes it took.
HTTP/1.1 keep-alive, one thread per connection; standard library only.
"""

import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATS = {"requests": 0, "body_bytes": 0}
LOCK = threading.Lock()


class Intake(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        with LOCK:
            STATS["requests"] += 1
            STATS["body_bytes"] += length
        body = b"{}"
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Intake)
    server.daemon_threads = True

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.2)
    with LOCK:
        print(json.dumps(STATS), flush=True)


if __name__ == "__main__":
    main()
