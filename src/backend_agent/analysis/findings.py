"""The finding model shared by the migration and security rules."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is; ordered from worst to mildest."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the worst; sort by this to put the worst first."""
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """One rule that fired at one place, with what to do about it."""

    rule: str  # stable id, e.g. "drop-column" or "jwt-misuse.no-algorithms"
    severity: Severity
    message: str
    file: str  # relative to the repository root, posix separators
    line: int  # 1-based
    fix: str = ""  # how to fix it, or how to roll it back safely

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data
