"""A small MCP server on the Python SDK (`mcp`), for the HTTP transport tests.

Tools: `add(a, b)` and `echo(message)`. Serves streamable HTTP at /mcp,
answering requests with event streams; with `--json-response`, with plain
JSON bodies instead.

Usage: echo_server.py (PORT | --fd FD) [--json-response] [--tls DIR] [--exit-after-handshake]

- PORT: listen on http://127.0.0.1:PORT.
- --fd FD: serve on a listening socket the caller made and passed as file
  descriptor FD (as systemd socket activation does), so that the caller can
  start the server again on the same socket: connections made meanwhile wait
  in its backlog instead of being refused.
- --tls DIR: serve HTTPS with a certificate for 127.0.0.1 from a CA made now;
  DIR/ca.pem is the certificate a client must trust (see test_ca.py).
- --exit-after-handshake: close every connection after its answer, and
  after answering the first `notifications/initialized` stop accepting and
  exit (status 0), forgetting every session: a restart in the middle of a
  client's session, once the caller starts the server again.
"""

import argparse
import json
import socket
import sys
from pathlib import Path

import uvicorn

from mcp.server.mcpserver import MCPServer

server = MCPServer("py-echo")


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@server.tool()
def echo(message: str) -> str:
    """Returns the message unchanged."""
    return message


def _is_initialized_notification(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("method") == "notifications/initialized"


class ExitAfterHandshake:
    """ASGI middleware: see --exit-after-handshake."""

    def __init__(self, app):
        self.app = app
        self.server: uvicorn.Server | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = []
        if scope["method"] == "POST":
            while True:
                message = await receive()
                received.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
        body = b"".join(m.get("body", b"") for m in received if m["type"] == "http.request")
        last = self.server is not None and _is_initialized_notification(body)
        if last:
            # Before answering, so that no later request reaches this process.
            for listening in self.server.servers:
                listening.close()

        async def replay():
            if received:
                return received.pop(0)
            return await receive()

        async def send_and_close(message):
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"connection"
                ]
                message = {**message, "headers": headers + [(b"connection", b"close")]}
            await send(message)

        await self.app(scope, replay, send_and_close)
        if last:
            self.server.should_exit = True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="echo_server.py")
    parser.add_argument("port", nargs="?", type=int)
    parser.add_argument("--fd", type=int)
    parser.add_argument("--json-response", action="store_true")
    parser.add_argument("--tls", type=Path, metavar="DIR")
    parser.add_argument("--exit-after-handshake", action="store_true")
    args = parser.parse_args(argv[1:])
    if (args.port is None) == (args.fd is None):
        parser.error("give either PORT or --fd FD")

    app = server.streamable_http_app(json_response=args.json_response)
    stopper = None
    if args.exit_after_handshake:
        app = stopper = ExitAfterHandshake(app)
    ssl = {}
    if args.tls is not None:
        import test_ca

        args.tls.mkdir(parents=True, exist_ok=True)
        certificate, key = test_ca.issue_server_certificate(test_ca.make_ca(args.tls), args.tls)
        ssl = {"ssl_certfile": str(certificate), "ssl_keyfile": str(key)}
    sockets = None
    port = args.port or 0
    if args.fd is not None:
        sockets = [socket.socket(fileno=args.fd)]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", **ssl)
    uvicorn_server = uvicorn.Server(config)
    if stopper is not None:
        stopper.server = uvicorn_server
    uvicorn_server.run(sockets=sockets)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
