"""OpenAPI/Swagger documents: operations, comparison with code, and classified spec changes."""

from __future__ import annotations

import json

import yaml

from backend_agent.analysis.endpoints.model import Endpoint
from backend_agent.analysis.endpoints.openapi import compare_with_code, parse_spec, spec_changes

SPEC_V3 = {
    "openapi": "3.0.0",
    "servers": [{"url": "https://api.example.com/api"}],
    "paths": {
        "/articles/{slug}": {
            "get": {
                "parameters": [{"name": "slug", "in": "path", "required": True}],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Article"}}
                        }
                    }
                },
            },
            "put": {
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"type": "object", "required": ["title"]}}
                    }
                },
                "responses": {"200": {"description": "ok"}},
            },
        },
        "/tags": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
    "components": {
        "schemas": {
            "Article": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "state": {"type": "string", "enum": ["draft", "live"]},
                },
            }
        }
    },
}


def test_operations_with_server_prefix_and_refs() -> None:
    spec = parse_spec("openapi.yaml", yaml.safe_dump(SPEC_V3).encode())
    assert spec is not None
    assert sorted(spec.operations) == [
        ("GET", "/api/articles/{slug}"),
        ("GET", "/api/tags"),
        ("PUT", "/api/articles/{slug}"),
    ]
    get = spec.operations[("GET", "/api/articles/{slug}")]
    assert get.success == {"200": {"title", "state"}}
    assert get.enums == {"state": {"draft", "live"}}


def test_swagger_two_base_path() -> None:
    document = {
        "swagger": "2.0",
        "basePath": "/v1",
        "paths": {"/pets/{id}": {"delete": {"responses": {"204": {}}}}},
    }
    spec = parse_spec("swagger.json", json.dumps(document).encode())
    assert spec is not None and list(spec.operations) == [("DELETE", "/v1/pets/{id}")]


def test_not_a_spec() -> None:
    assert parse_spec("config.yaml", b"name: x\n") is None


def test_code_versus_spec() -> None:
    spec = parse_spec("openapi.yaml", yaml.safe_dump(SPEC_V3).encode())
    assert spec is not None
    code = [
        Endpoint("rest", "GET", "/api/articles/{article_slug}", "none", "flask", "h", "app.py", 3),
        Endpoint("rest", "POST", "/api/articles", "required", "flask", "h", "app.py", 9),
    ]
    comparison = compare_with_code(code, [spec])
    assert [(r["method"], r["path"]) for r in comparison["in_code_not_in_spec"]] == [
        ("POST", "/api/articles")
    ]
    assert [(r["method"], r["path"]) for r in comparison["in_spec_not_in_code"]] == [
        ("GET", "/api/tags"),
        ("PUT", "/api/articles/{slug}"),
    ]


def test_breaking_spec_changes() -> None:
    old = parse_spec("openapi.yaml", yaml.safe_dump(SPEC_V3).encode())
    changed = json.loads(json.dumps(SPEC_V3))
    article = changed["components"]["schemas"]["Article"]["properties"]
    del article["title"]
    article["state"]["enum"] = ["live"]
    changed["paths"]["/articles/{slug}"]["put"]["requestBody"]["content"]["application/json"][
        "schema"
    ]["required"] = ["title", "body"]
    changed["paths"]["/articles/{slug}"]["put"]["responses"] = {"201": {"description": "created"}}
    del changed["paths"]["/tags"]
    changed["paths"]["/users"] = {"post": {"responses": {"201": {"description": "ok"}}}}
    new = parse_spec("openapi.yaml", yaml.safe_dump(changed).encode())
    rules = sorted((c.rule, c.compatibility) for c in spec_changes(old, new, "openapi.yaml"))
    assert rules == [
        ("openapi.enum-value-removed", "breaking"),
        ("openapi.operation-added", "non-breaking"),
        ("openapi.operation-removed", "breaking"),
        ("openapi.required-property-added", "breaking"),
        ("openapi.response-property-removed", "breaking"),
        ("openapi.success-status-changed", "breaking"),
    ]
