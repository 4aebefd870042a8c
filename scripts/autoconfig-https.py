#!/usr/bin/env python3
"""A small HTTPS server for the `mailcfg discover` tests (tests/it/discover.rs).

Usage: autoconfig-https.py ROOT CERT KEY

Serves ROOT/<Host header without port>/<path> on a free loopback port with the given
certificate, so one server can play several domains' autoconfig hosts. Prints "ready PORT"
once listening; 404 for anything else. Runs until killed.
"""
import http.server
import os
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = os.path.normpath(self.path.split("?")[0]).lstrip("/")
        file = os.path.join(ROOT, host, path)
        if ".." in path or not os.path.isfile(file):
            self.send_error(404)
            return
        with open(file, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ROOT, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(f"ready {server.server_address[1]}", flush=True)
server.serve_forever()
