"""The command's entry point: version, dispatch and start-up cost."""

import subprocess
import sys

from backend_agent import __version__
from backend_agent.cli import main


def test_version_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"backend-agent {__version__}"


def test_importing_the_package_loads_no_model_or_mcp_sdk():
    code = (
        "import sys, backend_agent, backend_agent.cli;"
        "print(sorted(m for m in ('anthropic','openai','mcp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
