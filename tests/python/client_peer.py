"""A stdio MCP server on the Python SDK's low-level `Server`, for the tests
of the MCP client: what server-everything does not do.

- resources, resource templates and prompts in pages of two (cursors
  `page-2`, `page-3`), so a client must follow `nextCursor` to see them all;
- tool `slow(seconds)`: sleeps, and records in the file named by
  `--record FILE` how it ended (`started PID`, then `finished` or `cancelled`),
  so a test can see that the client's `notifications/cancelled` arrived;
- tool `log`: one log message at each of debug, info, warning and error,
  whatever level the client asked for (recorded as `level LEVEL`), so a
  test sees the client's own filter;
- tool `sample`: sends `sampling/createMessage` although the client never
  offered sampling, and answers with the error it got back;
- tool `grow(name)`: adds a tool and a prompt of that name (default
  `extra-N`) and sends `tools/list_changed` and `prompts/list_changed`;
  `grow(name, seconds)` does so halfway through sleeping `seconds`, so the
  change arrives during a long call.

Usage: client_peer.py [--record FILE]
"""

import argparse
import os
import warnings
from pathlib import Path

import anyio
import mcp_types as types
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.stdio import stdio_server

PAGE = 2


def page(items, params):
    """The page of `items` that `params.cursor` asks for, and the next cursor."""
    cursor = params.cursor if params is not None else None
    number = int(cursor.removeprefix("page-")) if cursor else 1
    start = (number - 1) * PAGE
    rest = items[start + PAGE:]
    return items[start:start + PAGE], (f"page-{number + 1}" if rest else None)


RESOURCES = [
    types.Resource(uri=f"peer://resource/{n}", name=f"resource-{n}", mime_type="text/plain")
    for n in range(1, 6)
]
TEMPLATES = [
    types.ResourceTemplate(uri_template=f"peer://template/{n}/{{id}}", name=f"template-{n}")
    for n in range(1, 4)
]
PROMPTS = [types.Prompt(name=f"prompt-{n}", description=f"Prompt number {n}") for n in range(1, 5)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--record")
    args = parser.parse_args()
    record = Path(args.record) if args.record else None

    def note(line):
        if record is not None:
            with record.open("a") as file:
                file.write(line + "\n")

    async def list_resources(ctx, params):
        items, cursor = page(RESOURCES, params)
        return types.ListResourcesResult(resources=items, next_cursor=cursor)

    async def list_templates(ctx, params):
        items, cursor = page(TEMPLATES, params)
        return types.ListResourceTemplatesResult(resource_templates=items, next_cursor=cursor)

    async def read_resource(ctx, params):
        if not any(resource.uri == params.uri for resource in RESOURCES):
            raise ValueError(f"no resource {params.uri}")
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=params.uri, mime_type="text/plain", text=f"text of {params.uri}")]
        )

    grown = []

    async def list_prompts(ctx, params):
        items, cursor = page(PROMPTS + [types.Prompt(name=name, description="Added by grow") for name in grown], params)
        return types.ListPromptsResult(prompts=items, next_cursor=cursor)

    async def list_tools(ctx, params):
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name="slow",
                    description="Sleeps for `seconds`, recording how it ended.",
                    input_schema={"type": "object", "properties": {"seconds": {"type": "number"}}},
                ),
                types.Tool(name="log", description="Logs at four levels.", input_schema={"type": "object"}),
                types.Tool(name="sample", description="Asks the client to sample.", input_schema={"type": "object"}),
                types.Tool(
                    name="grow",
                    description="Adds a tool and a prompt, and says so.",
                    input_schema={
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "seconds": {"type": "number"}},
                    },
                ),
            ]
            + [types.Tool(name=name, description="Added by grow", input_schema={"type": "object"}) for name in grown]
        )

    async def set_level(ctx, params):
        note(f"level {params.level}")
        return types.EmptyResult()

    async def call_tool(ctx, params):
        if params.name == "log":
            for level in ["debug", "info", "warning", "error"]:
                await ctx.session.send_log_message(level=level, data=f"{level} from the peer", logger="peer")
            return types.CallToolResult(content=[types.TextContent(text="logged")])
        if params.name == "sample":
            request = types.CreateMessageRequest(
                params=types.CreateMessageRequestParams(
                    messages=[types.SamplingMessage(role="user", content=types.TextContent(text="hi"))],
                    max_tokens=10,
                )
            )
            try:
                await ctx.session.send_request(request, types.CreateMessageResult)
            except Exception as error:  # the client's error reply
                return types.CallToolResult(content=[types.TextContent(text=f"sampling refused: {error}")])
            return types.CallToolResult(content=[types.TextContent(text="sampling answered")], is_error=True)
        if params.name == "grow":
            arguments = params.arguments or {}
            name = arguments.get("name") or f"extra-{len(grown) + 1}"
            seconds = float(arguments.get("seconds", 0))
            await anyio.sleep(seconds / 2)
            grown.append(name)
            await ctx.session.send_tool_list_changed()
            await ctx.session.send_prompt_list_changed()
            await anyio.sleep(seconds / 2)
            return types.CallToolResult(content=[types.TextContent(text=f"added {name}")])
        if params.name in grown:
            return types.CallToolResult(content=[types.TextContent(text=f"{params.name} ran")])
        seconds = float((params.arguments or {}).get("seconds", 30))
        note(f"started {os.getpid()}")
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            note("cancelled")
            raise
        note("finished")
        return types.CallToolResult(content=[types.TextContent(text=f"slept {seconds} s")])

    # Logging is deprecated by MCP 2026-07-28; this peer speaks 2025-11-25.
    warnings.simplefilter("ignore")
    server = Server(
        "client-peer",
        on_set_logging_level=set_level,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )

    async def run():
        async with stdio_server() as (read_stream, write_stream):
            options = server.create_initialization_options(
                notification_options=NotificationOptions(tools_changed=True, prompts_changed=True)
            )
            await server.run(read_stream, write_stream, options)

    anyio.run(run)


if __name__ == "__main__":
    main()
