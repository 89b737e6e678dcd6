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


def test_help_and_version_load_no_heavy_library():
    heavy = {"pydantic", "rich", "prompt_toolkit", "tree_sitter", "jinja2", "mcp", "yaml"}
    for flag in ("--help", "--version"):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "backend_agent", flag],
            capture_output=True,
            text=True,
            check=True,
        )
        loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in out.stderr.splitlines()}
        assert "backend_agent" in loaded, flag  # the import log was read
        assert loaded & heavy == set(), flag


def test_a_usage_mistake_is_one_line_pointing_at_the_help():
    cases = {
        ("-p", "hi", "--max-turns", "0"): "backend-agent: error: argument --max-turns: ",
        ("stack", "--format", "x"): "backend-agent stack: error: argument --format: ",
        ("mcp", "bogus"): "backend-agent mcp: error: argument COMMAND: ",
        ("mcp", "list", "--nope"): "backend-agent mcp: error: unrecognized arguments: --nope",
    }
    for argv, start in cases.items():
        out = subprocess.run(
            [sys.executable, "-m", "backend_agent", *argv], capture_output=True, text=True
        )
        assert out.returncode == 2, argv
        assert out.stderr.startswith(start), out.stderr
        prog = start.split(": error")[0]
        assert out.stderr.strip().endswith(f"(see {prog} --help)"), out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_every_subcommand_takes_debug_and_documents_it():
    from backend_agent.cli import SUBCOMMANDS

    for name in SUBCOMMANDS:
        out = subprocess.run(
            [sys.executable, "-m", "backend_agent", name, "--help"], capture_output=True, text=True
        )
        if name in ("mcp", "db"):  # the debug flag belongs to their subcommands
            out = subprocess.run(
                [sys.executable, "-m", "backend_agent", name, "list" if name == "mcp" else "schema",
                 "--help"],
                capture_output=True, text=True,
            )  # fmt: skip
        assert out.returncode == 0, name
        assert "--debug" in out.stdout and "traceback" in out.stdout, name
