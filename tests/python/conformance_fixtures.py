"""A stdio MCP server on the Python SDK's low-level `Server` that offers
the fixtures the official conformance suite's server scenarios call by
name (tools `test_*`, resources `test://...`, prompts `test_*_prompt...`,
completions), so the suite can be run against `codex mcp-server` fronting
it. Tools that need the client (sampling, elicitation) ask the client the
gateway is, which answers as the host's MCP client does.
"""

import base64
import json
import warnings

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

# A 1x1 red PNG and a 44-byte silent WAV.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
        "0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
    )
).decode()
WAV = base64.b64encode(
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"
).decode()

EMPTY = {"type": "object", "properties": {}}


def tool(name, description, schema=None):
    return types.Tool(name=name, description=description, input_schema=schema or EMPTY)


TOOLS = [
    tool("test_simple_text", "Returns simple text."),
    tool("test_image_content", "Returns an image."),
    tool("test_audio_content", "Returns audio."),
    tool("test_embedded_resource", "Returns an embedded resource."),
    tool("test_multiple_content_types", "Returns text, an image and a resource."),
    tool("test_tool_with_logging", "Logs three messages while it runs."),
    tool("test_tool_with_progress", "Reports progress three times."),
    tool("test_error_handling", "Always fails."),
    tool("test_reconnection", "Answers after 2.5 seconds, so that a gateway run with --poll-after 1 closes its stream first."),
    tool(
        "test_sampling",
        "Asks the client to sample.",
        {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]},
    ),
    tool("test_elicitation_sep1034_defaults", "Asks for input with a default for every primitive type."),
    tool("test_elicitation_sep1330_enums", "Asks for input with every kind of enum."),
    tool(
        "json_schema_2020_12_tool",
        "Tool with JSON Schema 2020-12 features",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                }
            },
            "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
            "additionalProperties": False,
        },
    ),
    tool(
        "test_elicitation",
        "Asks the user for input.",
        {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
    ),
]


SEP1034 = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "default": "John Doe"},
        "age": {"type": "integer", "default": 30},
        "score": {"type": "number", "default": 95.5},
        "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
        "verified": {"type": "boolean", "default": True},
    },
}
SEP1330 = {
    "type": "object",
    "properties": {
        "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
        "titledSingle": {
            "type": "string",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
        "titledMulti": {
            "type": "array",
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
}


def text(value):
    return types.TextContent(text=value)


def main():
    async def list_tools(ctx, params):
        return types.ListToolsResult(tools=TOOLS)

    async def call_tool(ctx, params):
        name = params.name
        args = params.arguments or {}
        if name == "test_simple_text":
            return types.CallToolResult(content=[text("This is a simple text response for testing.")])
        if name == "test_image_content":
            return types.CallToolResult(content=[types.ImageContent(data=PNG, mime_type="image/png")])
        if name == "test_audio_content":
            return types.CallToolResult(content=[types.AudioContent(data=WAV, mime_type="audio/wav")])
        if name == "test_embedded_resource":
            resource = types.TextResourceContents(
                uri="test://embedded-resource", mime_type="text/plain", text="This is an embedded resource content."
            )
            return types.CallToolResult(content=[types.EmbeddedResource(resource=resource)])
        if name == "test_multiple_content_types":
            resource = types.TextResourceContents(
                uri="test://mixed-content-resource",
                mime_type="application/json",
                text=json.dumps({"test": "data", "value": 123}),
            )
            return types.CallToolResult(
                content=[
                    text("Multiple content types test:"),
                    types.ImageContent(data=PNG, mime_type="image/png"),
                    types.EmbeddedResource(resource=resource),
                ]
            )
        if name == "test_tool_with_logging":
            for message in ["Tool execution started", "Tool processing data", "Tool execution completed"]:
                await ctx.session.send_log_message(level="info", data=message, logger="conformance")
                await anyio.sleep(0.05)
            return types.CallToolResult(content=[text("Tool with logging executed successfully")])
        if name == "test_tool_with_progress":
            token = ctx.meta.get("progress_token") if isinstance(ctx.meta, dict) else getattr(ctx.meta, "progress_token", None)
            for step in (0, 50, 100):
                if token is not None:
                    await ctx.session.send_progress_notification(token, step, 100, f"step {step}")
                await anyio.sleep(0.05)
            return types.CallToolResult(content=[text(str(token))])
        if name == "test_reconnection":
            await anyio.sleep(2.5)
            return types.CallToolResult(content=[text("Reconnection test completed successfully")])
        if name == "test_error_handling":
            return types.CallToolResult(
                content=[text("This tool intentionally returns an error for testing")], is_error=True
            )
        if name == "test_sampling":
            request = types.CreateMessageRequest(
                params=types.CreateMessageRequestParams(
                    messages=[types.SamplingMessage(role="user", content=text(args.get("prompt", "")))],
                    max_tokens=100,
                )
            )
            result = await ctx.session.send_request(request, types.CreateMessageResult)
            return types.CallToolResult(content=[text(f"LLM response: {result.content.text}")])
        if name == "test_elicitation":
            request = types.ElicitRequest(
                params=types.ElicitRequestFormParams(
                    message=args.get("message", "Please provide your information"),
                    requested_schema={
                        "type": "object",
                        "properties": {"username": {"type": "string"}, "email": {"type": "string"}},
                        "required": ["username", "email"],
                    },
                )
            )
            result = await ctx.session.send_request(request, types.ElicitResult)
            return types.CallToolResult(content=[text(f"User response: action={result.action}")])
        if name in ("test_elicitation_sep1034_defaults", "test_elicitation_sep1330_enums"):
            schema = SEP1034 if name == "test_elicitation_sep1034_defaults" else SEP1330
            request = types.ElicitRequest(
                params=types.ElicitRequestFormParams(message="Please review and answer", requested_schema=schema)
            )
            result = await ctx.session.send_request(request, types.ElicitResult)
            return types.CallToolResult(
                content=[text(f"Elicitation completed: action={result.action}, content={json.dumps(result.content)}")]
            )
        return types.CallToolResult(content=[text(f"unknown tool {name}")], is_error=True)

    async def list_resources(ctx, params):
        return types.ListResourcesResult(
            resources=[
                types.Resource(uri="test://static-text", name="static-text", mime_type="text/plain"),
                types.Resource(uri="test://static-binary", name="static-binary", mime_type="image/png"),
                types.Resource(uri="test://watched-resource", name="watched-resource", mime_type="text/plain"),
            ]
        )

    async def list_templates(ctx, params):
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template="test://template/{id}/data", name="template", mime_type="application/json"
                )
            ]
        )

    async def read_resource(ctx, params):
        uri = str(params.uri)
        if uri == "test://static-text":
            contents = types.TextResourceContents(
                uri=uri, mime_type="text/plain", text="This is the content of the static text resource."
            )
        elif uri == "test://static-binary":
            contents = types.BlobResourceContents(uri=uri, mime_type="image/png", blob=PNG)
        elif uri.startswith("test://template/") and uri.endswith("/data"):
            item = uri.removeprefix("test://template/").removesuffix("/data")
            body = json.dumps({"id": item, "templateTest": True, "data": f"Data for ID: {item}"})
            contents = types.TextResourceContents(uri=uri, mime_type="application/json", text=body)
        elif uri == "test://watched-resource":
            contents = types.TextResourceContents(uri=uri, mime_type="text/plain", text="watched")
        else:
            raise ValueError(f"no resource {uri}")
        return types.ReadResourceResult(contents=[contents])

    async def list_prompts(ctx, params):
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(name="test_simple_prompt", description="A simple prompt."),
                types.Prompt(
                    name="test_prompt_with_arguments",
                    description="A prompt with arguments.",
                    arguments=[
                        types.PromptArgument(name="arg1", required=True),
                        types.PromptArgument(name="arg2", required=True),
                    ],
                ),
                types.Prompt(
                    name="test_prompt_with_embedded_resource",
                    description="A prompt with an embedded resource.",
                    arguments=[types.PromptArgument(name="resourceUri", required=True)],
                ),
                types.Prompt(name="test_prompt_with_image", description="A prompt with an image."),
            ]
        )

    async def get_prompt(ctx, params):
        name = params.name
        args = params.arguments or {}
        if name == "test_simple_prompt":
            messages = [types.PromptMessage(role="user", content=text("This is a simple prompt for testing."))]
        elif name == "test_prompt_with_arguments":
            messages = [
                types.PromptMessage(
                    role="user", content=text(f"Prompt with arguments: arg1='{args.get('arg1')}', arg2='{args.get('arg2')}'")
                )
            ]
        elif name == "test_prompt_with_embedded_resource":
            resource = types.TextResourceContents(
                uri=args.get("resourceUri", "test://example-resource"),
                mime_type="text/plain",
                text="Embedded resource content for testing.",
            )
            messages = [
                types.PromptMessage(role="user", content=types.EmbeddedResource(resource=resource)),
                types.PromptMessage(role="user", content=text("Please process the embedded resource above.")),
            ]
        elif name == "test_prompt_with_image":
            messages = [
                types.PromptMessage(role="user", content=types.ImageContent(data=PNG, mime_type="image/png")),
                types.PromptMessage(role="user", content=text("Please analyze the image above.")),
            ]
        else:
            raise ValueError(f"no prompt {name}")
        return types.GetPromptResult(messages=messages)

    async def complete(ctx, params):
        values = [word for word in ["paris", "park", "party"] if word.startswith(params.argument.value)]
        return types.CompleteResult(completion=types.Completion(values=values, total=len(values), has_more=False))

    async def set_level(ctx, params):
        return types.EmptyResult()

    async def subscribe(ctx, params):
        return types.EmptyResult()

    warnings.simplefilter("ignore")
    server = Server(
        "conformance-fixtures",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
        on_completion=complete,
        on_set_logging_level=set_level,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=subscribe,
    )

    async def run():
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(run)


if __name__ == "__main__":
    main()
