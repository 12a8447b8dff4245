"""A test server that answers who it is and whom it sees: ``<name> <peer address>``.

Usage: peer_server.py NAME ADDRESS PORT [tcp|http]. In http mode the answer is an HTTP/1.0
response whose body adds the X-Forwarded-For header the proxy sent.
"""

import http.server
import socket
import socketserver
import sys


class Tcp(socketserver.BaseRequestHandler):
    server: "Server"

    def handle(self):
        self.request.sendall(f"{self.server.name} {self.client_address[0]}\n".encode())


class Http(http.server.BaseHTTPRequestHandler):
    server: "Server"

    def do_GET(self):  # noqa: N802 - http.server's name
        forwarded = self.headers.get("X-Forwarded-For", "-")
        body = f"{self.server.name} {self.client_address[0]} {forwarded}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    # A lab check connects from every namespace at once; socketserver's backlog of 5 drops SYNs.
    request_queue_size = 256
    address_family = socket.AF_INET
    name = ""  # what it answers it is


def main() -> None:
    name, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    handler = Http if len(sys.argv) > 4 and sys.argv[4] == "http" else Tcp
    server = Server((address, port), handler)
    server.name = name
    server.serve_forever()


if __name__ == "__main__":
    main()
