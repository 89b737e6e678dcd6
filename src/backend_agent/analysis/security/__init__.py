"""Security rules of our own for Python, JavaScript/TypeScript, Go and Ruby, plus SARIF output."""

from backend_agent.analysis.security.analyzer import analyze_security
from backend_agent.analysis.security.rules import RULES, Rule

__all__ = ["RULES", "Rule", "analyze_security"]
