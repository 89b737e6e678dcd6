"""The puppeteer preset: the agent (scripted) drives the real server-puppeteer with Debian's
chromium against a small HTTP API served on 127.0.0.1, and reads back what the page shows."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import mcp_config, node_server

from backend_agent.mcp.presets import PRESETS, find_chromium
from backend_agent.mcp.startup import McpOptions
from backend_agent.messages import ToolResultBlock
from backend_agent.models.registry import ModelChoice
from backend_agent.models.scripted import ScriptedModel
from backend_agent.permissions import PermissionOptions
from backend_agent.sessions.config import SessionConfig
from backend_agent.sessions.session import Session

TOOLS = "mcp__puppeteer__puppeteer_"
PAGE = b"""<!doctype html>
<html><body>
<h1>Order</h1><p id="status">loading</p>
<script>
window.loaded = fetch("/api/orders/42")
  .then((response) => response.json())
  .then((order) => {
    document.querySelector("#status").textContent = `order ${order.id}: ${order.status}`;
  });
</script>
</body></html>"""


class OrdersApi(BaseHTTPRequestHandler):
    """``/`` is a page that renders ``/api/orders/42`` (JSON) into ``#status``."""

    def do_GET(self) -> None:
        if self.path == "/api/orders/42":
            body, kind = json.dumps({"id": 42, "status": "shipped"}).encode(), "application/json"
        elif self.path == "/":
            body, kind = PAGE, "text/html"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is not the place for access logs."""


@pytest.fixture
def orders_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), OrdersApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
@pytest.mark.node
def test_the_agent_drives_chromium_through_the_puppeteer_preset(
    project: Path, orders_api: str, write_script: Callable[[list[Any]], str]
) -> None:
    if find_chromium() is None:
        pytest.skip("chromium is not installed")
    entry = PRESETS["puppeteer"].entry(project, [str(node_server("mcp-server-puppeteer"))])
    model = write_script(
        [
            {
                "tool_calls": [
                    {"name": "mcp__puppeteer__puppeteer_navigate", "input": {"url": orders_api}}
                ]
            },
            {
                "tool_calls": [
                    {
                        "name": f"{TOOLS}evaluate",
                        "input": {
                            "script": "window.loaded.then(() => "
                            "document.querySelector('#status').textContent)"
                        },
                    },
                    {
                        "name": f"{TOOLS}screenshot",
                        "input": {"name": "order", "width": 320, "height": 200},
                    },
                ]
            },
            "The page shows order 42 as shipped.",
        ]
    )
    config = SessionConfig(
        cwd=project,
        model=ModelChoice(model),
        mcp=McpOptions([mcp_config({"puppeteer": entry})]),
        permissions=PermissionOptions(allowed_tools=["mcp__puppeteer"]),
    )
    with Session.open(config) as run:
        run.prompt("check the order page")
        assert isinstance(run.model, ScriptedModel)
        messages = run.model.requests[-1].messages

    results = [
        block
        for message in messages
        for block in message.content
        if isinstance(block, ToolResultBlock)
    ]
    navigate, evaluate, screenshot = results
    assert not navigate.is_error and orders_api in str(navigate.content)
    assert '"order 42: shipped"' in str(evaluate.content)
    assert not screenshot.is_error
    (image,) = screenshot.images
    assert image.media_type == "image/png" and len(image.data) > 100
