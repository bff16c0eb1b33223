"""An MCP server on the Python SDK for the gateway's relay tests: tools that
report progress, ask the client for sampling and roots, notice their own
cancellation, change the tool list, count tools/list requests and send
resource updates. Served on stdio, or with `--port PORT` as streamable HTTP
at http://127.0.0.1:PORT/mcp (where sampling rides the call's POST stream).

Tools: progress {steps} (one progress notification per step, 0.2 s apart),
slow {seconds, marker} (writes "cancelled" to the file `marker` when it is
cancelled), sample {prompt, delay} (waits `delay` seconds first; on MCP
2026-07-28 it asks in an input_required result), roots, add_tool (adds the tool `added` and
sends notifications/tools/list_changed), list_count (how many tools/list
requests it answered), touch {uri} (sends notifications/resources/updated),
subscriptions (the resource URIs subscribed to now, one per line), crash
(the process exits at once), interview (asks elicitation, sampling and
roots in turn).
"""

import os
import sys
import warnings

import anyio
import mcp_types as types
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.stdio import stdio_server
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS


def tool(name, properties=None):
    schema = {"type": "object", "properties": properties or {}}
    return types.Tool(name=name, description=f"relay test tool {name}", input_schema=schema)


def text(value):
    return types.TextContent(text=value)


def main():
    state = {"lists": 0, "added": False, "subscribed": set()}

    def tools():
        listed = [
            tool("progress", {"steps": {"type": "integer"}}),
            tool("slow", {"seconds": {"type": "number"}, "marker": {"type": "string"}}),
            tool("sample", {"prompt": {"type": "string"}, "delay": {"type": "number"}}),
            tool("roots"),
            tool("interview"),
            tool("crash"),
            tool("add_tool"),
            tool("list_count"),
            tool("subscriptions"),
            tool("touch", {"uri": {"type": "string"}}),
        ]
        if state["added"]:
            listed.append(tool("added"))
        return listed

    async def list_tools(ctx, params):
        state["lists"] += 1
        return types.ListToolsResult(tools=tools())

    async def call_tool(ctx, params):
        name = params.name
        args = params.arguments or {}
        if name == "progress":
            meta = ctx.meta
            token = meta.get("progress_token") if isinstance(meta, dict) else getattr(meta, "progress_token", None)
            steps = int(args.get("steps", 1))
            for step in range(1, steps + 1):
                await ctx.session.send_progress_notification(token, step, steps, f"step {step}")
                await anyio.sleep(0.2)
            return types.CallToolResult(content=[text(f"done {steps}")])
        if name == "slow":
            try:
                await anyio.sleep(float(args.get("seconds", 30)))
            except anyio.get_cancelled_exc_class():
                with open(args["marker"], "w") as marker:
                    marker.write("cancelled")
                raise
            return types.CallToolResult(content=[text("slept")])
        if name == "sample":
            await anyio.sleep(float(args.get("delay", 0)))
            request = types.CreateMessageRequest(
                params=types.CreateMessageRequestParams(
                    messages=[types.SamplingMessage(role="user", content=text(args.get("prompt", "")))],
                    max_tokens=50,
                )
            )
            if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
                # MCP 2026-07-28: asked in an input_required result, answered
                # when the client calls again.
                answered = (params.input_responses or {}).get("sample")
                if answered is None:
                    return types.InputRequiredResult(input_requests={"sample": request}, request_state="sample")
                result = types.CreateMessageResult.model_validate(
                    answered if isinstance(answered, dict) else answered.model_dump(by_alias=True)
                )
            else:
                # Over streamable HTTP this rides the call's own POST stream.
                result = await ctx.session.send_request(
                    request,
                    types.CreateMessageResult,
                    metadata=ServerMessageMetadata(related_request_id=ctx.request_id),
                )
            return types.CallToolResult(content=[text(f"sampled: {result.content.text}")])
        if name == "roots":
            result = await ctx.session.list_roots()
            return types.CallToolResult(content=[text(" ".join(str(root.uri) for root in result.roots))])
        if name == "crash":
            os._exit(3)
        if name == "interview":
            # Three questions, one after the other: elicitation, sampling, roots.
            asked = await ctx.session.send_request(
                types.ElicitRequest(
                    params=types.ElicitRequestFormParams(
                        message="Who is asking?",
                        requested_schema={"type": "object", "properties": {"name": {"type": "string"}}},
                    )
                ),
                types.ElicitResult,
            )
            who = (asked.content or {}).get("name") if asked.action == "accept" else asked.action
            sampled = await ctx.session.send_request(
                types.CreateMessageRequest(
                    params=types.CreateMessageRequestParams(
                        messages=[types.SamplingMessage(role="user", content=text(f"greet {who}"))],
                        max_tokens=50,
                    )
                ),
                types.CreateMessageResult,
            )
            roots = await ctx.session.list_roots()
            listed = " ".join(str(root.uri) for root in roots.roots)
            return types.CallToolResult(content=[text(f"{who} | {sampled.content.text} | {listed}")])
        if name == "add_tool":
            state["added"] = True
            await ctx.session.send_tool_list_changed()
            return types.CallToolResult(content=[text("added")])
        if name == "list_count":
            return types.CallToolResult(content=[text(str(state["lists"]))])
        if name == "touch":
            await ctx.session.send_resource_updated(args["uri"])
            return types.CallToolResult(content=[text("touched")])
        if name == "subscriptions":
            return types.CallToolResult(content=[text("\n".join(sorted(state["subscribed"])))])
        if name == "added":
            return types.CallToolResult(content=[text("the added tool")])
        return types.CallToolResult(content=[text(f"unknown tool {name}")], is_error=True)

    async def list_resources(ctx, params):
        return types.ListResourcesResult(
            resources=[types.Resource(uri="relay://watched", name="watched", mime_type="text/plain")]
        )

    async def read_resource(ctx, params):
        contents = types.TextResourceContents(uri=str(params.uri), mime_type="text/plain", text="watched")
        return types.ReadResourceResult(contents=[contents])

    async def subscribe(ctx, params):
        state["subscribed"].add(str(params.uri))
        return types.EmptyResult()

    async def unsubscribe(ctx, params):
        state["subscribed"].discard(str(params.uri))
        return types.EmptyResult()

    warnings.simplefilter("ignore")
    server = Server(
        "relay-test",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
    )
    options = server.create_initialization_options(notification_options=NotificationOptions(tools_changed=True))

    if len(sys.argv) == 3 and sys.argv[1] == "--port":
        import uvicorn

        app = server.streamable_http_app()
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
        return

    async def run():
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, options)

    anyio.run(run)


if __name__ == "__main__":
    main()
