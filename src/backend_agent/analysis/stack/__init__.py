"""What a repository is built with, read from its manifests, lockfiles and layout.

Every directory holding a manifest (package.json, pyproject.toml, requirements*.txt, Pipfile,
setup.cfg/setup.py, go.mod, Gemfile) is a *component*; a monorepo has several. Each fact
carries its evidence (``"package.json: express"``) so that a reader can check it.
``catalog`` holds what names mean, ``manifests`` reads the files, ``runners`` finds the test
commands and ``detect`` puts it together.
"""

from backend_agent.analysis.stack.catalog import CATEGORIES
from backend_agent.analysis.stack.detect import detect_stack
from backend_agent.analysis.stack.model import Component, Stack, TestRunner

__all__ = ["CATEGORIES", "Component", "Stack", "TestRunner", "detect_stack"]
