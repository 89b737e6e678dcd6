"""SARIF 2.1.0 for code-scanning services (GitHub, GitLab, Azure DevOps)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backend_agent import __version__
from backend_agent.analysis.findings import Finding, Severity
from backend_agent.analysis.security.rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks code-scanning alerts by this property (a CVSS-like score as a string).
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def to_sarif(findings: Iterable[Finding]) -> dict[str, Any]:
    """One SARIF run whose rules are those that fired, described from the rule catalogs."""
    findings = list(findings)
    descriptors: dict[str, dict[str, Any]] = {}
    for finding in findings:
        if finding.rule not in descriptors:
            descriptors[finding.rule] = _descriptor(finding)
    index = {rule_id: i for i, rule_id in enumerate(descriptors)}
    results = [
        {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _LEVELS[f.severity],
            "message": {"text": f"{f.message}. Fix: {f.fix}" if f.fix else f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": max(f.line, 1)},
                    }
                }
            ],
        }
        for f in findings
    ]
    driver = {
        "name": "backend-agent",
        "version": __version__,
        "rules": list(descriptors.values()),
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }


def _descriptor(finding: Finding) -> dict[str, Any]:
    rule = RULES.get(finding.rule)
    severity = rule.severity if rule else finding.severity
    title = rule.title if rule else finding.message
    help_text = rule.fix if rule else finding.fix or finding.message
    return {
        "id": finding.rule,
        "name": "".join(part.title() for part in finding.rule.replace(".", "-").split("-")),
        "shortDescription": {"text": title},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": _LEVELS[severity]},
        "properties": {"security-severity": _SECURITY_SEVERITY[severity]},
    }
