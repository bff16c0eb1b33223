"""A small MCP server on the Python SDK (`mcp`), for the HTTP transport tests.

Tools: `add(a, b)` and `echo(message)`. Serves streamable HTTP on
http://127.0.0.1:PORT/mcp, answering requests with event streams; with
`--json-response`, with plain JSON bodies instead.

Usage: echo_server.py PORT [--json-response]
"""

import sys

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


def main(argv: list[str]) -> int:
    args = argv[1:]
    json_response = "--json-response" in args
    args = [arg for arg in args if arg != "--json-response"]
    if len(args) != 1 or not args[0].isdigit():
        print("usage: echo_server.py PORT [--json-response]", file=sys.stderr)
        return 2
    server.run(
        "streamable-http",
        host="127.0.0.1",
        port=int(args[0]),
        json_response=json_response,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
