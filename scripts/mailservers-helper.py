"""Tiny misbehaving servers for mailcfg's probe tests, started by scripts/mailservers.sh.

Real Dovecot/Postfix cover every normal case; these cover what a correctly configured real
server never does:
  silent     accepts TCP connections and never says a word (a black-holed / wrong service)
  imap-plain an IMAP server without STARTTLS (so "security tls" must fail, never fall back)
  pop3-plain a POP3 server without STLS
  http       an HTTP server's answer on a mail port (a different service listens there)
  trickle    sends one byte every 0.2 s forever and never a full line (per-read timeouts alone
             would wait forever)
  blackhole  a port whose SYNs go unanswered (its accept queue is full), like a firewall that
             drops packets: connecting times out

Usage: python3 mailservers-helper.py HOST SILENT_PORT IMAP_PLAIN_PORT POP3_PLAIN_PORT HTTP_PORT
       BLACKHOLE_PORT TRICKLE_PORT
"""
import socket
import socketserver
import sys
import threading
import time


class Silent(socketserver.BaseRequestHandler):
    def handle(self):
        # Hold the connection open, read and discard, until the client gives up.
        try:
            while self.request.recv(4096):
                pass
        except OSError:
            pass


class Lines(socketserver.StreamRequestHandler):
    def send(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def lines(self):
        while True:
            try:
                line = self.rfile.readline(8192)
            except OSError:
                return
            if not line:
                return
            yield line.decode("latin-1").rstrip("\r\n")


class ImapPlain(Lines):
    CAPS = "IMAP4rev1 AUTH=PLAIN"

    def handle(self):
        self.send(f"* OK [CAPABILITY {self.CAPS}] plaintext-only test IMAP server ready")
        for line in self.lines():
            tag, _, rest = line.partition(" ")
            cmd = rest.split(" ", 1)[0].upper()
            if cmd == "CAPABILITY":
                self.send(f"* CAPABILITY {self.CAPS}")
                self.send(f"{tag} OK CAPABILITY completed")
            elif cmd == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            elif cmd == "NOOP":
                self.send(f"{tag} OK NOOP completed")
            elif cmd in ("LOGIN", "AUTHENTICATE"):
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] test server accepts no logins")
            else:
                self.send(f"{tag} BAD unknown command")


class Pop3Plain(Lines):
    def handle(self):
        self.send("+OK plaintext-only test POP3 server ready")
        for line in self.lines():
            cmd = line.split(" ", 1)[0].upper()
            if cmd == "CAPA":
                self.send("+OK capability list follows")
                self.send("USER")
                self.send("UIDL")
                self.send(".")
            elif cmd == "QUIT":
                self.send("+OK bye")
                return
            elif cmd == "NOOP":
                self.send("+OK")
            else:
                self.send("-ERR unknown command")


class Http(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        self.wfile.flush()


class Trickle(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while True:
                self.request.sendall(b"*")
                time.sleep(0.2)
        except OSError:
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def blackhole(host, port):
    """A listener that never accepts, with its accept queue filled by our own connections:
    Linux then drops further SYNs, so clients see a connect timeout."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(0)
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect((host, port))
        except BlockingIOError:
            pass
        fillers.append(c)
    return s, fillers


def main():
    host, silent, imap, pop3, http, hole, trickle = sys.argv[1], *map(int, sys.argv[2:8])
    # Set up first: the other ports answering means this one is ready too.
    keep = blackhole(host, hole)  # noqa: F841 (kept open for the process's lifetime)
    handlers = ((silent, Silent), (imap, ImapPlain), (pop3, Pop3Plain), (http, Http),
                (trickle, Trickle))
    servers = [Server((host, p), h) for p, h in handlers]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    print(f"mailservers-helper ready on {host}: silent {silent}, imap-plain {imap}, "
          f"pop3-plain {pop3}, http {http}, blackhole {hole}, trickle {trickle}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
