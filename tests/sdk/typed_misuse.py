"""Mistakes a type checker must catch in a user's program: each line marked ``# wrong`` is one
(tests/sdk/test_public_api.py checks that mypy --strict reports exactly those lines)."""

from __future__ import annotations

import backend_agent
from backend_agent.events import TextDelta

result = backend_agent.run("hi", cwd=".")
turns: str = result.num_turns  # wrong
backend_agent.open_session(".", permision_mode="plan")  # wrong
backend_agent.open_session(".", permission_mode="yolo")  # wrong
backend_agent.open_session(".", max_turns="ten")  # wrong
backend_agent.Deny(interrupt="yes")  # wrong
TextDelta(3)  # wrong
print(backend_agent.nonexistent)  # wrong
print(result.to_json()["subtype"], turns)
