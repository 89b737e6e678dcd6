"""The output limit a user sets reaches the wire, for either provider."""

from __future__ import annotations

from pathlib import Path

from fault_harness import Provider, check_run, run_agent


def test_max_output_tokens_is_what_each_request_asks_for(
    provider: Provider, project: Path, home: Path
) -> None:
    provider.server.add(provider.calls(("Glob", {"pattern": "*"})), provider.text("Nothing."))

    run = run_agent(provider, project, home, "--max-output-tokens", "1234")

    check_run(run, code=0, subtype="success")
    field = "max_tokens"  # OpenAI's own API would get max_completion_tokens
    assert [r.body[field] for r in provider.server.requests] == [1234, 1234]
