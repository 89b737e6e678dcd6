"""What the official SDKs cost beside our lean client: at start-up (modules, CPU, memory of the
import) and per request (a short turn, and a 2 MB tool input streamed in small deltas).

Each import is measured in a fresh interpreter; requests go to the fake servers of tests/fakes
on 127.0.0.1. The SDK rows are what the adapters cost when they were built on the SDKs.

    python benchmarks/providers.py [--turns 50]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fakes.anthropic_server import AnthropicFake, Reply, tool_use  # noqa: E402
from fakes.openai_server import ChatReply, OpenAIFake  # noqa: E402

from backend_agent.messages import Message, ModelRequest  # noqa: E402
from backend_agent.models.anthropic import AnthropicModel  # noqa: E402
from backend_agent.models.openai import OpenAIModel  # noqa: E402

IMPORT_PROBE = """
import json, sys, time
started = time.process_time()
import {module}
print(json.dumps({{"modules": len(sys.modules), "cpu": time.process_time() - started}}))
"""
GNU_TIME = "/usr/bin/time"  # its %M is the command's own peak RSS, in KiB
BIG_INPUT = {"file_path": "/srv/app/big.py", "content": "x = 'payload line'\n" * 110_000}
HELLO = [{"role": "user", "content": "hello"}]
DELTA_CHARS = 30  # what the API streams per input_json_delta, roughly


def import_cost(module: str) -> dict[str, float]:
    probe = IMPORT_PROBE.format(module=module)
    with tempfile.NamedTemporaryFile("r") as rss:
        done = subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", rss.name, sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, float] = json.loads(done.stdout)
        result["rss"] = int(rss.read().split()[-1])
    return result


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def sdk_anthropic_turn(fake: AnthropicFake) -> Callable[[], Any]:
    import anthropic

    client = anthropic.Anthropic(api_key="k", base_url=fake.url, max_retries=0)

    def turn() -> Any:
        with client.messages.stream(model="claude-sonnet-5-5", max_tokens=100, messages=HELLO) as s:
            return s.get_final_message()

    return turn


def sdk_openai_turn(fake: OpenAIFake) -> Callable[[], Any]:
    import openai

    client = openai.OpenAI(api_key="k", base_url=fake.url, max_retries=0)

    def turn() -> Any:
        stream = client.chat.completions.create(
            model="gpt-5.5", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
        arguments: list[str] = []
        for chunk in stream:
            for choice in chunk.choices:
                for call in choice.delta.tool_calls or []:
                    arguments.append(call.function.arguments or "" if call.function else "")
        return json.loads("".join(arguments) or "{}")

    return turn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=50, help="short turns per client")
    args = parser.parse_args()

    print(f"{'import':<36}{'modules':>9}{'CPU s':>8}{'RSS MiB':>9}")
    modules = ("json", "anthropic", "openai", "backend_agent.models.anthropic")
    for module in (*modules, "backend_agent.models.openai"):
        cost = import_cost(module)
        print(f"{module:<36}{cost['modules']:>9.0f}{cost['cpu']:>8.2f}{cost['rss'] / 1024:>9.1f}")

    request = ModelRequest("", [Message.user("hello")])
    with AnthropicFake() as a_fake, OpenAIFake() as o_fake:
        ours_a = AnthropicModel("claude-sonnet-5-5", api_key="k", base_url=a_fake.url)
        ours_o = OpenAIModel("gpt-5.5", api_key="k", base_url=o_fake.url)
        big_a = Reply.of(tool_use("Write", BIG_INPUT), input_delta=DELTA_CHARS)
        big_o = ChatReply("", [("Write", BIG_INPUT)], arguments_delta=DELTA_CHARS)
        clients: dict[str, tuple[Callable[[], Any], Callable[..., None], Any, Any]] = {
            "Anthropic SDK": (sdk_anthropic_turn(a_fake), a_fake.add, Reply.of("hi"), big_a),
            "Anthropic, our client": (
                lambda: ours_a.complete(request),
                a_fake.add,
                Reply.of("hi"),
                big_a,
            ),
            "OpenAI SDK": (sdk_openai_turn(o_fake), o_fake.add, ChatReply("hi"), big_o),
            "OpenAI, our client": (
                lambda: ours_o.complete(request),
                o_fake.add,
                ChatReply("hi"),
                big_o,
            ),
        }
        print(f"\n{'per request':<36}{'short turn ms':>14}{'2 MB tool input s':>19}")
        for name, (turn, add, short, big) in clients.items():
            add(*[short] * (args.turns + 1))
            turn()  # connections opened, a local server's context asked for
            started = time.perf_counter()
            for _ in range(args.turns):
                turn()
            turn_ms = (time.perf_counter() - started) * 1000 / args.turns
            add(big)
            big_s = timed(turn)
            print(f"{name:<36}{turn_ms:>14.2f}{big_s:>19.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
