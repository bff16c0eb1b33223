"""An MCP server protected by OAuth, on the Python MCP SDK (`mcp`, pinned in
tests/python/requirements.txt), for the end-to-end tests of the oauth plugin.

It serves streamable HTTP at http://127.0.0.1:PORT/mcp, publishes RFC 9728
protected-resource metadata at /.well-known/oauth-protected-resource/mcp
naming ISSUER as its authorization server (scope `mcp:tools`), answers an
unauthenticated request with 401 and `WWW-Authenticate: Bearer
resource_metadata=...`, and verifies every bearer token by introspection
(RFC 7662) at the authorization server: the token must be active, be an
access token, and name this server as its audience (RFC 8707).

Tools: `whoami` (the token's subject, client and scopes) and
`echo(message)`.

Usage: resource_server.py ISSUER [PORT] [--exit-with-stdin]
(PORT 0 or absent: any free port; --exit-with-stdin: stop when stdin closes,
so a test that dies takes its server with it.) Prints `URL http://127.0.0.1:PORT/mcp` on stdout once it serves.

Environment: OAUTH_INTROSPECTION_SECRET, the secret of the client
`mcp-resource-server` at the provider (default `resource-server-secret`).
"""

import asyncio
import base64
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings

import anyio
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

CLIENT_ID = "mcp-resource-server"
SCOPE = "mcp:tools"


class IntrospectionVerifier:
    """A `TokenVerifier` asking the authorization server about each token."""

    def __init__(self, introspection_endpoint: str, resource: str, secret: str):
        self.endpoint = introspection_endpoint
        self.resource = resource
        credentials = f"{CLIENT_ID}:{secret}".encode()
        self.authorization = "Basic " + base64.b64encode(credentials).decode()

    def _introspect(self, token: str) -> dict:
        body = urllib.parse.urlencode({"token": token, "token_type_hint": "access_token"}).encode()
        request = urllib.request.Request(
            self.endpoint,
            data=body,
            headers={
                "Authorization": self.authorization,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.load(answer)
        except (urllib.error.URLError, ValueError) as error:
            print(f"resource server: introspection failed: {error}", file=sys.stderr, flush=True)
            return {"active": False}

    async def verify_token(self, token: str) -> AccessToken | None:
        info = await anyio.to_thread.run_sync(self._introspect, token)
        if not info.get("active"):
            print("resource server: refused an inactive token", file=sys.stderr, flush=True)
            return None
        if info.get("token_type", "Bearer").lower() != "bearer":
            return None
        audience = info.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.resource not in audiences:
            print(f"resource server: refused a token for {audience!r}", file=sys.stderr, flush=True)
            return None
        return AccessToken(
            token=token,
            client_id=str(info.get("client_id", "")),
            scopes=str(info.get("scope", "")).split(),
            expires_at=info.get("exp"),
            resource=self.resource,
            subject=info.get("sub"),
            claims={"iss": info.get("iss")},
        )


def discover_introspection(issuer: str) -> str:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return json.load(answer)["introspection_endpoint"]
        except (urllib.error.URLError, ValueError, KeyError) as error:
            if time.monotonic() >= deadline:
                raise SystemExit(f"resource server: no introspection endpoint at {url}: {error}")
            time.sleep(0.2)


def build(issuer: str, resource: str) -> MCPServer:
    verifier = IntrospectionVerifier(
        discover_introspection(issuer),
        resource,
        os.environ.get("OAUTH_INTROSPECTION_SECRET", "resource-server-secret"),
    )
    auth = AuthSettings(
        issuer_url=issuer,
        resource_server_url=resource,
        required_scopes=[SCOPE],
        validate_token_resource=True,
    )
    server = MCPServer("oauth-protected", token_verifier=verifier, auth=auth)

    @server.tool()
    def whoami() -> str:
        """Who the bearer token speaks for: its subject, client and scopes."""
        token = get_access_token()
        if token is None:
            return "nobody"
        return f"subject={token.subject} client={token.client_id} scopes={' '.join(token.scopes)}"

    @server.tool()
    def echo(message: str) -> str:
        """Returns the message unchanged."""
        return message

    return server


async def serve(issuer: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    resource = f"http://127.0.0.1:{port}/mcp"
    app = build(issuer, resource).streamable_http_app(host="127.0.0.1")
    config = uvicorn.Config(app, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise SystemExit("resource server: uvicorn stopped before serving")
        await asyncio.sleep(0.05)
    print(f"URL {resource}", flush=True)
    await task


def exit_when_stdin_closes() -> None:
    def wait() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=wait, daemon=True).start()


def main(argv: list[str]) -> int:
    args = argv[1:]
    if "--exit-with-stdin" in args:
        args.remove("--exit-with-stdin")
        exit_when_stdin_closes()
    if not 1 <= len(args) <= 2 or (len(args) == 2 and not args[1].isdigit()):
        print("usage: resource_server.py ISSUER [PORT] [--exit-with-stdin]", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore", DeprecationWarning)
    asyncio.run(serve(args[0], int(args[1]) if len(args) == 2 else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
