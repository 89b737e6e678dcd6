"""SARIF 2.1.0 output: the structure code-scanning services require."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from backend_agent.analysis.project import Project
from backend_agent.analysis.security import analyze_security
from backend_agent.analysis.security.sarif import to_sarif

FIXTURES = Path(__file__).parents[2] / "fixtures" / "security"

# The parts of the official SARIF 2.1.0 schema that a run with rules and results must satisfy
# (required properties, enums and minimums), written out because the schema is not fetchable.
_MESSAGE = {
    "type": "object",
    "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
    "properties": {"text": {"type": "string"}},
}
SARIF_REQUIRED = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"enum": ["2.1.0"]},
        "$schema": {"type": "string", "format": "uri"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": _MESSAGE,
                                                "help": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {
                                                        "level": {
                                                            "enum": [
                                                                "none",
                                                                "note",
                                                                "warning",
                                                                "error",
                                                            ]
                                                        }
                                                    },
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": _MESSAGE,
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "anyOf": [
                                                    {"required": ["artifactLocation"]},
                                                    {"required": ["address"]},
                                                ],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "properties": {"uri": {"type": "string"}},
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {
                                                                "type": "integer",
                                                                "minimum": 1,
                                                            }
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_has_the_required_structure_and_every_finding() -> None:
    findings = analyze_security(Project(FIXTURES / "go" / "vulnerable"))
    sarif = json.loads(json.dumps(to_sarif(findings)))  # survives a JSON round trip
    jsonschema.validate(sarif, SARIF_REQUIRED)
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules) == len({f.rule for f in findings})
    assert len(run["results"]) == len(findings)
    for result, finding in zip(run["results"], findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == finding.file
        assert not finding.file.startswith("/")
        assert location["region"]["startLine"] == finding.line
        assert result["level"] == ("error" if finding.severity.rank <= 1 else "warning")
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]


def test_sarif_without_findings_is_a_valid_empty_run() -> None:
    sarif = to_sarif([])
    jsonschema.validate(sarif, SARIF_REQUIRED)
    assert sarif["runs"][0]["results"] == []
