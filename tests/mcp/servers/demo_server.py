"""An MCP server for the tests, on the SDK's server side: `python demo_server.py stdio` or
`python demo_server.py streamable-http|sse PORT`.

Its tools: echo, add, fail (a tool error), crash (the process exits mid-call), pixel (an image),
slow, big (a long text), env (one variable of the server's environment) and header (one header of
the HTTP request, over HTTP transports).
"""

from __future__ import annotations

import base64
import os
import sys
import time

from mcp.server.mcpserver import Context, Image, MCPServer

# A 1x1 red PNG.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)

server = MCPServer("demo")


@server.tool(description="Repeat the given text.")
def echo(text: str) -> str:
    return text


@server.tool(description="Add two integers.")
def add(a: int, b: int) -> str:
    return str(a + b)


@server.tool(description="Always fails with a message.")
def fail(reason: str) -> str:
    raise ValueError(f"refused: {reason}")


@server.tool(description="Exit the server process while the call is in flight.")
def crash() -> str:
    print("demo server: about to crash", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool(description="Sleep for the given seconds, then answer.")
def slow(seconds: float) -> str:
    time.sleep(seconds)
    return "awake"


@server.tool(description="A one-pixel PNG image.")
def pixel() -> Image:
    return Image(data=PIXEL_PNG, format="png")


@server.tool(description="A text of the given length.")
def big(size: int) -> str:
    return "x" * size


@server.tool(description="The value of one environment variable of the server.")
def env(name: str) -> str:
    return os.environ.get(name, "<unset>")


@server.tool(description="The value of one header of the HTTP request that carried this call.")
def header(name: str, ctx: Context) -> str:
    headers = ctx.headers or {}
    return headers.get(name.lower(), "<unset>")


if __name__ == "__main__":
    transport = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run(transport, host="127.0.0.1", port=int(sys.argv[2]))  # type: ignore[call-overload]
