"""The AsyncAPI 3.0 output validates against the official JSON Schema (vendored from npm
@asyncapi/specs, see tests/fixtures/queues/asyncapi/README.md) and its references resolve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from queues_support import FIXTURES

from backend_agent.analysis.project import Project
from backend_agent.analysis.queues.asyncapi import to_asyncapi
from backend_agent.analysis.queues.inventory import queue_inventory

SCHEMA = json.loads((FIXTURES / "asyncapi" / "asyncapi-3.0.0.schema.json").read_text())


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(SCHEMA)


def document_of(root: Path) -> dict[str, Any]:
    return to_asyncapi(queue_inventory(Project(root)), root.name)


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("language", ["python", "javascript", "go", "ruby"])
def test_fixture_documents_validate(language: str) -> None:
    document = document_of(FIXTURES / language)
    errors = [e.message for e in validator().iter_errors(document)]
    assert errors == []
    for ref in refs(document):
        resolve(document, ref)  # every reference points into the document


def test_the_schema_rejects_a_broken_document() -> None:
    document = document_of(FIXTURES / "python")
    document["operations"]["bogus"] = {"action": "publish", "channel": {"$ref": "#/channels/x"}}
    assert any("publish" in e.message for e in validator().iter_errors(document))


def test_operations_and_payloads_of_a_channel() -> None:
    document = document_of(FIXTURES / "python")
    channel = document["channels"]["kafka-orders-created"]
    assert channel["address"] == "orders.created"
    payload = channel["messages"]["OrderCreated"]["payload"]
    assert payload["properties"]["items"] == {"type": "array", "items": {"type": "string"}}
    send = document["operations"]["send-kafka-orders-created"]
    assert send["action"] == "send"
    assert send["x-sites"] == [
        {"file": "shop/events/kafka_bus.py", "line": 15, "symbol": "publish_order"}
    ]
    assert document["operations"]["receive-kafka-orders-created"]["action"] == "receive"


def test_jobs_are_channels_of_their_queues() -> None:
    document = document_of(FIXTURES / "ruby")
    critical = document["channels"]["sidekiq-critical"]
    assert critical["address"] == "critical"
    assert critical["messages"]["HardWorker"]["x-arguments"] == ["name", "count"]
    assert document["operations"]["receive-sidekiq-critical"]["x-sites"] == [
        {"file": "app/workers/hard_worker.rb", "line": 1, "job": "HardWorker"}
    ]
