"""An MCP client on the Python SDK that drives `codex mcp-server` for the
gateway tests: it connects (stdio: runs the command after `--`; http: the
URL, with the bearer token from the environment variable `--token-env`),
runs the steps given as a JSON array on stdin, and prints one JSON array of
their results (an `{"error": ...}` object for a step that failed).

Steps: {"op": "list_tools"}, {"op": "call", "name": N, "args": {...}},
{"op": "list_prompts"}, {"op": "get_prompt", "name": N, "args": {...}},
{"op": "list_resources"}, {"op": "list_templates"}, {"op": "read", "uri": U},
{"op": "complete_prompt", "name": N, "argument": A, "value": V},
{"op": "read_first"} (reads the first listed resource),
{"op": "repeat", "times": K, "name": N, "args": {...}} (K calls, counted),
{"op": "call_progress", "name": N, "args": {...}} (the result and the progress
values this call was sent), {"op": "cancel_after", "seconds": S, "name": N,
"args": {...}} (gives the call up after S seconds, which sends
notifications/cancelled), {"op": "sleep", "seconds": S}, {"op": "subscribe",
"uri": U}, {"op": "notifications"} (the notifications received so far, as
{"method", "params"}), {"op": "together", "steps": [...]} (the steps at once,
in this session; the list of their results), {"op": "listen", "tools": true,
"uris": [U], "then": [...], "seconds": S} (MCP 2026-07-28: opens a
subscriptions/listen stream, runs the steps, then collects its events for S
seconds; {"results", "events"}, an event as "ToolsListChanged" or
"ResourceUpdated URI").
Over http, a first step {"op": "parallel", "clients": C, "calls": K, "name": N,
"args": {...}} opens C sessions at once, each making K calls, and prints
{"ok": calls that succeeded, "failed": [errors]} instead; a first step
{"op": "sessions", "plans": [[steps], [steps], ...]} runs each plan in a
session of its own, all at once, and prints the list of their results.

--sampling TEXT answers sampling/createMessage with TEXT (and offers sampling);
--roots URI,... answers roots/list with those roots (and offers roots);
--elicit JSON accepts elicitation/create with that content (and offers elicitation);
--discover speaks MCP 2026-07-28 (server/discover, no session) instead of
initialize (2025-11-25, a session); a call's input_required rounds are then
answered by the SDK's own round driver through the same callbacks, and
{"op": "call_rounds", ...} gives {"result", "rounds": retries it took}.

Usage: gateway_client.py [--sampling TEXT] [--roots URIS] stdio -- COMMAND ARGS...
       gateway_client.py [--sampling TEXT] [--roots URIS] http URL [--token-env VAR]
"""

import argparse
import json
import os
import sys

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client


def dump(result):
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


OPTIONS = {"sampling": None, "roots": None, "elicit": None, "discover": False}


def session_callbacks(received):
    """The ClientSession keyword arguments: what this client offers, and a
    message handler that records the notifications in `received`."""

    async def message_handler(message):
        if hasattr(message, "model_dump"):
            received.append(dump(message))

    async def logging_callback(params):
        received.append({"method": "notifications/message", "params": dump(params)})

    callbacks = {"message_handler": message_handler, "logging_callback": logging_callback}
    if OPTIONS["sampling"] is not None:
        from mcp_types import CreateMessageResult, TextContent

        async def sampling_callback(context, params):
            return CreateMessageResult(role="assistant", content=TextContent(text=OPTIONS["sampling"]), model="test-model")

        callbacks["sampling_callback"] = sampling_callback
    if OPTIONS["roots"] is not None:
        from mcp_types import ListRootsResult, Root

        async def list_roots_callback(context):
            return ListRootsResult(roots=[Root(uri=uri) for uri in OPTIONS["roots"]])

        callbacks["list_roots_callback"] = list_roots_callback
    if OPTIONS["elicit"] is not None:
        from mcp_types import ElicitResult

        async def elicitation_callback(context, params):
            return ElicitResult(action="accept", content=OPTIONS["elicit"])

        callbacks["elicitation_callback"] = elicitation_callback
    return callbacks


async def call_tool(session, name, args, rounds=None, **kwargs):
    """A tools/call. Over MCP 2026-07-28 the server's questions come back in
    input_required results: the SDK's driver answers them through the
    session's callbacks and calls again; `rounds` (a list) counts the retries."""
    if not OPTIONS["discover"]:
        return await session.call_tool(name, args, **kwargs)
    from mcp.client._input_required import run_input_required_driver
    from mcp.client.session import ClientRequestContext
    from mcp_types import InputRequiredResult

    async def retry(responses, state):
        if rounds is not None:
            rounds.append(sorted(responses or {}))
        return await session.call_tool(
            name, args, input_responses=responses, request_state=state, allow_input_required=True, **kwargs
        )

    async def dispatch(key, request):
        meta = request.params.meta if request.params else None
        context = ClientRequestContext(session=session, request_id=key, meta=meta)
        return await session.dispatch_input_request(context, request)

    first = await session.call_tool(name, args, allow_input_required=True, **kwargs)
    if not isinstance(first, InputRequiredResult):
        return first
    return await run_input_required_driver(first, dispatch=dispatch, retry=retry)


async def step(session, plan):
    op = plan["op"]
    if op == "call_progress":
        seen = []

        async def progress(value, total, message):
            seen.append(value)

        result = await call_tool(session, plan["name"], plan.get("args", {}), progress_callback=progress)
        return {"result": dump(result), "progress": seen}
    if op == "cancel_after":
        with anyio.move_on_after(plan["seconds"]) as scope:
            await call_tool(session, plan["name"], plan.get("args", {}))
        return {"cancelled": scope.cancelled_caught}
    if op == "together":
        outcomes = [None] * len(plan["steps"])

        async def run_one(index):
            try:
                outcomes[index] = await step(session, plan["steps"][index])
            except Exception as error:
                outcomes[index] = {"error": f"{type(error).__name__}: {error}"}

        async with anyio.create_task_group() as group:
            for index in range(len(plan["steps"])):
                group.start_soon(run_one, index)
        return outcomes
    if op == "listen":
        from mcp.client.subscriptions import listen

        events = []
        async with listen(
            session, tools_list_changed=plan.get("tools", False), resource_subscriptions=plan.get("uris", [])
        ) as subscription:
            results = [await step(session, inner) for inner in plan.get("then", [])]
            with anyio.move_on_after(plan.get("seconds", 1)):
                async for event in subscription:
                    uri = getattr(event, "uri", None)
                    events.append(type(event).__name__ + (f" {uri}" if uri else ""))
        return {"results": results, "events": events}
    if op == "sleep":
        await anyio.sleep(plan["seconds"])
        return {}
    if op == "subscribe":
        await session.subscribe_resource(plan["uri"])
        return {}
    if op == "notifications":
        return list(session.received)
    if op == "list_tools":
        return dump(await session.list_tools())
    if op == "call":
        return dump(await call_tool(session, plan["name"], plan.get("args", {})))
    if op == "call_rounds":
        rounds = []
        result = await call_tool(session, plan["name"], plan.get("args", {}), rounds=rounds)
        return {"result": dump(result), "rounds": rounds}
    if op == "repeat":
        ok = 0
        for _ in range(plan["times"]):
            result = await call_tool(session, plan["name"], plan.get("args", {}))
            ok += 0 if result.is_error else 1
        return {"ok": ok}
    if op == "list_prompts":
        return dump(await session.list_prompts())
    if op == "get_prompt":
        return dump(await session.get_prompt(plan["name"], plan.get("args", {})))
    if op == "list_resources":
        return dump(await session.list_resources())
    if op == "list_templates":
        return dump(await session.list_resource_templates())
    if op == "read_first":
        listed = await session.list_resources()
        return dump(await session.read_resource(listed.resources[0].uri))
    if op == "read":
        return dump(await session.read_resource(plan["uri"]))
    if op == "complete_prompt":
        from mcp_types import PromptReference

        ref = PromptReference(type="ref/prompt", name=plan["name"])
        return dump(await session.complete(ref, {"name": plan["argument"], "value": plan["value"]}))
    raise ValueError(f"unknown op {op}")


async def run_steps(session, steps):
    if OPTIONS["discover"]:
        await session.discover()  # MCP 2026-07-28: no session
    else:
        await session.initialize()
    results = []
    for plan in steps:
        try:
            results.append(await step(session, plan))
        except Exception as error:  # a failed step is a result to assert on
            results.append({"error": f"{type(error).__name__}: {error}"})
    return results


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sampling")
    parser.add_argument("--roots")
    parser.add_argument("--elicit")
    parser.add_argument("--discover", action="store_true")
    parser.add_argument("mode", choices=["stdio", "http"])
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    OPTIONS["sampling"] = args.sampling
    OPTIONS["roots"] = args.roots.split(",") if args.roots else None
    OPTIONS["elicit"] = json.loads(args.elicit) if args.elicit else None
    OPTIONS["discover"] = args.discover
    steps = json.load(sys.stdin)
    if args.mode == "stdio":
        command = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
        params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            received = []
            async with ClientSession(read, write, **session_callbacks(received)) as session:
                session.received = received
                results = await run_steps(session, steps)
    else:
        http_args = argparse.ArgumentParser()
        http_args.add_argument("url")
        http_args.add_argument("--token-env")
        http = http_args.parse_args(args.rest)
        headers = {}
        if http.token_env:
            headers["Authorization"] = f"Bearer {os.environ[http.token_env]}"

        async def one_session(plan_steps):
            async with httpx2.AsyncClient(headers=headers, timeout=60) as client:
                async with streamable_http_client(http.url, http_client=client) as streams:
                    read, write = streams[0], streams[1]
                    received = []
                    async with ClientSession(read, write, **session_callbacks(received)) as session:
                        session.received = received
                        return await run_steps(session, plan_steps)

        if steps and steps[0]["op"] == "sessions":
            plans = steps[0]["plans"]
            outcomes = [None] * len(plans)

            async def run_plan(index):
                try:
                    outcomes[index] = await one_session(plans[index])
                except Exception as error:
                    outcomes[index] = {"error": f"{type(error).__name__}: {error}"}

            async with anyio.create_task_group() as group:
                for index in range(len(plans)):
                    group.start_soon(run_plan, index)
            results = outcomes
        elif steps and steps[0]["op"] == "parallel":
            plan = steps[0]
            counts = {"ok": 0, "failed": []}

            async def client_task():
                try:
                    [done] = await one_session([{"op": "repeat", "times": plan["calls"], "name": plan["name"], "args": plan.get("args", {})}])
                    counts["ok"] += done.get("ok", 0)
                    if "error" in done:
                        counts["failed"].append(done["error"])
                except Exception as error:
                    counts["failed"].append(f"{type(error).__name__}: {error}")

            async with anyio.create_task_group() as group:
                for _ in range(plan["clients"]):
                    group.start_soon(client_task)
            results = counts
        else:
            results = await one_session(steps)
    print(json.dumps(results))


anyio.run(main)
