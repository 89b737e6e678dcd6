"""Finding, running and counting tests: real runners on fixture projects with known counts."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend_agent.analysis.project import Project
from backend_agent.analysis.stack import detect_stack
from backend_agent.analysis.testsuite import changed_tests, is_test_file, parse_counts, run_tests
from backend_agent.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "testsuites"


def copy_fixture(name, tmp_path):
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def needs(*binaries):
    missing = [b for b in binaries if shutil.which(b) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


@pytest.mark.parametrize(
    ("fixture", "runner", "command", "counts"),
    [
        pytest.param("pytest", "pytest", "python -m pytest", (3, 1, 1)),
        pytest.param("node-test", "node:test", "npm test", (2, 1, 1), marks=needs("npm")),
        # subtests count as tests: TestAdd, TestTable and its two cases pass
        pytest.param("go", "go test", "go test ./...", (4, 1, 1), marks=needs("go")),
        pytest.param("rspec", "rspec", "rspec", (3, 1, 1), marks=needs("rspec")),
        pytest.param("minitest", "minitest", None, (3, 1, 1), marks=needs("ruby")),
    ],
)
def test_runner_counts_on_fixture_project(tmp_path, fixture, runner, command, counts):
    root = copy_fixture(fixture, tmp_path)
    stack = detect_stack(root)
    [found] = stack.test_runners
    assert found.name == runner
    if command is not None:
        assert found.command == command
    [run] = run_tests(root, stack, timeout=240)
    assert (run.passed, run.failed, run.skipped) == counts, run.output_tail
    assert run.exit_code != 0 and not run.ok and not run.timed_out


@pytest.fixture(scope="session")
def jest_project(tmp_path_factory):
    """The jest fixture with jest installed from the npm registry, once per session."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    root = tmp_path_factory.mktemp("jest") / "jest"
    shutil.copytree(FIXTURES / "jest", root)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return root


@pytest.mark.node
def test_jest_counts(jest_project):
    stack = detect_stack(jest_project)
    assert [(r.name, r.command) for r in stack.test_runners] == [("jest", "npm test")]
    [run] = run_tests(jest_project, stack, timeout=240)
    assert (run.passed, run.failed, run.skipped) == (3, 1, 1), run.output_tail


def test_passing_suite_is_ok(tmp_path):
    root = copy_fixture("pytest", tmp_path)
    source = (root / "check_calc.py").read_text()
    (root / "check_calc.py").write_text(source.replace("== 4", "== 3"))
    [run] = run_tests(root, detect_stack(root), timeout=240)
    assert (run.passed, run.failed, run.skipped, run.exit_code, run.ok) == (4, 0, 1, 0, True)


def test_timeout_stops_the_run(tmp_path):
    root = copy_fixture("pytest", tmp_path)
    (root / "check_slow.py").write_text("import time\n\ndef test_slow():\n    time.sleep(600)\n")
    [run] = run_tests(root, detect_stack(root), timeout=3)
    assert run.timed_out and run.exit_code is None and not run.ok


def git(repo, *args):
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


def test_changed_tests_lists_added_and_modified_test_files(tmp_path):
    repo = tmp_path / "repo"
    files = {
        "tests/test_orders.py": "def test_a():\n    pass\n",
        "tests/test_users.py": "def test_b():\n    pass\n",
        "spec/user_spec.rb": "RSpec.describe 'u' do\nend\n",
        "app/orders.py": "X = 1\n",
    }
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    (repo / "tests/test_orders.py").write_text("def test_a():\n    assert True\n")
    (repo / "app/orders.py").write_text("X = 2\n")
    (repo / "web").mkdir()
    (repo / "web/cart.test.ts").write_text("test('x', () => {});\n")
    (repo / "calc_test.go").write_text("package calc\n")
    head = Project(repo)
    expected = ["calc_test.go", "tests/test_orders.py", "web/cart.test.ts"]
    assert changed_tests(head.at("HEAD"), head) == expected
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "change")
    assert changed_tests(head.at("HEAD~1"), head.at("HEAD")) == expected


def test_cli_run_json_and_exit_code(tmp_path, capsys):
    root = copy_fixture("pytest", tmp_path)
    assert main(["tests", str(root), "--run", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["runners"][0]["command"] == "python -m pytest"
    [run] = data["runs"]
    assert (run["passed"], run["failed"], run["skipped"], run["ok"]) == (3, 1, 1, False)
    assert data["changed_tests"] is None


def test_cli_lists_without_running(capsys):
    assert main(["tests", str(FIXTURES / "rspec")]) == 0
    out = capsys.readouterr().out
    assert "rspec" in out and "results:" not in out


counts = st.tuples(st.integers(0, 500), st.integers(1, 500), st.integers(1, 500))

RENDERERS = {
    "pytest": lambda p, f, s: f"==== {f} failed, {p} passed, {s} skipped in 1.23s ====",
    "jest": lambda p, f, s: f"Tests:       {f} failed, {s} skipped, {p} passed, {p + f + s} total",
    "vitest": lambda p, f, s: f" Tests  {f} failed | {p} passed | {s} skipped ({p + f + s})",
    "mocha": lambda p, f, s: f"  {p} passing (12ms)\n  {s} pending\n  {f} failing",
    "node:test": lambda p, f, s: f"# tests {p + f + s}\n# pass {p}\n# fail {f}\n# skipped {s}",
    "tap": lambda p, f, s: f"# {{ total: {p + f + s}, pass: {p}, fail: {f}, skip: {s} }}",
    "ava": lambda p, f, s: f"  {f} tests failed\n  {s} tests skipped\n  {p} tests passed",
    "rspec": lambda p, f, s: f"{p + f + s} examples, {f} failures, {s} pending",
    "minitest": lambda p, f, s: (
        f"{p + f + s} runs, 9 assertions, {f} failures, 0 errors, {s} skips"
    ),
    "unittest": lambda p, f, s: (
        f"Ran {p + f + s} tests in 0.1s\n\nFAILED (failures={f}, skipped={s})"
    ),
    "playwright": lambda p, f, s: (
        f"  {f} failed\n    [chromium] › login.spec.ts:3:1 › signs in\n"
        f"  {s} skipped\n  {p} passed (4.2s)"
    ),
    "cypress": lambda p, f, s: (
        f"    ✖  1 of 3 failed (33%)      00:05    {p + f + s}    {p}    {f}    -    {s}"
    ),
}


@pytest.mark.parametrize("runner", sorted(RENDERERS))
@given(counts)
def test_summary_lines_parse_back_to_their_counts(runner, values):
    output = f"some log line\n{RENDERERS[runner](*values)}\n"
    parsed = parse_counts(runner, output)
    assert (parsed.passed, parsed.failed, parsed.skipped) == values
    assert parse_counts("script", output) == parsed  # a custom script finds the same summary


def test_cypress_counts_dashes_as_none_and_pending_as_skipped():
    output = (
        "       Spec                    Tests  Passing  Failing  Pending  Skipped\n"
        "  │ ✔  login.cy.js    00:02        3        3        -        -        - │\n"
        "  │ ✔  cart.cy.js     00:03        4        2        -        1        1 │\n"
        "    ✔  All specs passed!   00:05        7        5        -        1        1\n"
    )
    counts = parse_counts("cypress", output)
    assert (counts.passed, counts.failed, counts.skipped) == (5, 0, 2)


def test_playwright_counts_flaky_tests_as_passed():
    output = "Running 6 tests using 2 workers\n  1 flaky\n  5 passed (8.1s)\n"
    counts = parse_counts("playwright", output)
    assert (counts.passed, counts.failed, counts.skipped) == (6, 0, 0)


@pytest.mark.parametrize(
    "path",
    [
        "cypress/e2e/login.cy.ts",
        "cypress/e2e/admin/users.cy.js",
        "cypress/integration/checkout.js",
        "cypress/component/Button.tsx",
        "web/src/Button.cy.tsx",
        "e2e/login.spec.ts",
        "tests/checkout.e2e.ts",
        "test/app.e2e-spec.ts",
        "playwright/tests/home.test.mts",
    ],
)
def test_cypress_and_playwright_specs_are_test_files(path):
    assert is_test_file(path)


@pytest.mark.parametrize(
    "path",
    ["cypress.config.ts", "cypress/support/commands.ts", "cypress/fixtures/user.json",
     "playwright.config.ts", "src/specification.ts"],
)  # fmt: skip
def test_cypress_support_and_config_files_are_not_tests(path):
    assert not is_test_file(path)


def test_unknown_output_has_no_counts():
    assert parse_counts("pytest", "Segmentation fault") is None
    assert parse_counts("script", "done") is None


OUTPUTS = FIXTURES / "outputs"


@pytest.mark.parametrize("path", sorted(OUTPUTS.glob("*.txt")), ids=lambda p: p.stem)
def test_recorded_runner_output_parses_to_known_counts(path):
    runner = path.stem.split("-")[0]
    output = path.read_text()
    counts = parse_counts(runner, output)
    assert (counts.passed, counts.failed, counts.skipped) == (3, 1, 1)
    fallback = parse_counts("script", output)  # a custom test script: formats tried in turn
    assert (fallback.passed, fallback.failed, fallback.skipped) == (3, 1, 1)


def test_unittest_project_without_pytest(tmp_path):
    """Written here, not under fixtures/: a test_*.py fixture would join this suite's run."""
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = calc\n")
    (tmp_path / "test_calc.py").write_text(
        "import unittest\n\n\n"
        "class Calc(unittest.TestCase):\n"
        "    def test_adds(self):\n        self.assertEqual(1 + 1, 2)\n\n"
        "    def test_subtracts(self):\n        self.assertEqual(3 - 1, 2)\n\n"
        "    def test_multiplies(self):\n        self.assertEqual(2 * 3, 6)\n\n"
        "    def test_divides_wrongly(self):\n        self.assertEqual(7 // 2, 4)\n\n"
        "    @unittest.skip('not implemented')\n"
        "    def test_powers(self):\n        self.assertEqual(2**3, 8)\n"
    )
    stack = detect_stack(tmp_path)
    [runner] = stack.test_runners
    assert runner.command == "python -m unittest discover -p 'test*.py'"
    [run] = run_tests(tmp_path, stack, timeout=240)
    assert (run.passed, run.failed, run.skipped) == (3, 1, 1), run.output_tail


def test_cli_base_lists_changed_tests(tmp_path, capsys):
    repo = tmp_path / "repo"
    (repo / "spec").mkdir(parents=True)
    (repo / "spec" / "cart_spec.rb").write_text("RSpec.describe 'cart' do\nend\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    (repo / "spec" / "order_spec.rb").write_text("RSpec.describe 'order' do\nend\n")
    assert main(["tests", str(repo), "--base", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "rspec" in out
    assert "test files added or changed:\n  spec/order_spec.rb" in out


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_cli_refuses_a_timeout_that_is_not_a_positive_number(value, capsys):
    from backend_agent.cli import main

    with pytest.raises(SystemExit):
        main(["tests", "--timeout", value, "--run"])
    assert f"--timeout: expected a positive number, got '{value}'" in capsys.readouterr().err
