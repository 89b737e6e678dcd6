"""``backend-agent batch --report-all``: a report per repository and one page across them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from tests.batch.conftest import results, run_batch_command

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def report_all(tmp_path: Path, repos: dict[str, Path], fmt: str, *extra: str) -> Path:
    out = tmp_path / f"out-{fmt}"
    done = run_batch_command(
        "--report-all", *map(str, repos.values()), *extra, "--format", fmt, "--out", out,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == (1 if extra else 0), done.stderr
    assert f"backend-agent: wrote {out / f'org-report.{fmt}'}" in done.stderr
    return out


def test_the_overview_adds_up_the_repositories(tmp_path: Path, repos: dict[str, Path]) -> None:
    out = report_all(tmp_path, repos, "json")
    org = json.loads((out / "org-report.json").read_text())
    per_repo = {
        task: json.loads((out / "tasks" / task / "report.json").read_text()) for task in repos
    }
    repo_rows = {row["id"]: row for row in org["repos"]}
    assert set(repo_rows) == {"orders", "users", "billing"}
    all_risks = [risk for report in per_repo.values() for risk in report["risks"]]
    for severity in ("critical", "high", "medium", "low", "info"):
        expected = sum(risk["severity"] == severity for risk in all_risks)
        assert org["severities"].get(severity, 0) == expected
    assert sum(rule["count"] for rule in org["rules"]) == len(all_risks)
    missing_auth = next(rule for rule in org["rules"] if rule["rule"] == "missing-auth")
    assert missing_auth["repos"] == 2  # orders' POST and users' DELETE have no auth
    assert (repo_rows["orders"]["endpoints"], repo_rows["orders"]["by_kind"]) == (1, {"rest": 1})
    assert repo_rows["users"]["endpoints"] == 2
    assert repo_rows["users"]["unauthenticated_writes"] == 1  # DELETE /users/{id}
    assert repo_rows["users"]["frameworks"] == ["express"]
    assert (repo_rows["billing"]["migrations"], repo_rows["billing"]["risky_migrations"]) == (2, 1)
    (risky,) = org["risky_migrations"]
    assert (risky["repo"], risky["file"], risky["severity"]) == (
        "billing", "migrations/0002_drop_total.sql", "high"
    )  # fmt: skip
    assert "drop-column" in risky["rules"]
    assert repo_rows["billing"]["report"] == "tasks/billing/report.json"


def test_markdown_and_sarif(tmp_path: Path, repos: dict[str, Path]) -> None:
    md = (report_all(tmp_path, repos, "md") / "org-report.md").read_text()
    assert md.startswith("## Backend Agent Report: 3 repositories\n")
    for heading in ("Risks per repository", "Risks per rule", "Risky migrations",
                    "Endpoints per service"):  # fmt: skip
        assert f"\n### {heading}\n" in md
    assert "| [users](tasks/users/report.md) | 2 | 2 | 0 | 0 | 0 | 1 | express |" in md
    assert "- **HIGH** billing: `migrations/0002_drop_total.sql` (sql): " in md

    out = report_all(tmp_path, repos, "sarif")
    sarif = json.loads((out / "org-report.sarif").read_text())
    assert [run["automationDetails"]["id"] for run in sarif["runs"]] == [
        "orders/", "users/", "billing/"
    ]  # fmt: skip
    separate = [json.loads((out / "tasks" / t / "report.sarif").read_text()) for t in repos]
    assert [len(r["results"]) for r in sarif["runs"]] == [
        len(s["runs"][0]["results"]) for s in separate
    ]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_the_org_page_renders_in_chromium(tmp_path: Path, repos: dict[str, Path]) -> None:
    out = report_all(tmp_path, repos, "html", str(tmp_path / "gone"))
    page = out / "org-report.html"
    html = page.read_text()
    assert "<script" not in html and "<link" not in html and "src=" not in html
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    assert CHROMIUM is not None
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert "<h1>Backend Agent Report: 4 repositories</h1>" in dom
    for heading in ("Risks per repository", "Risks per rule", "Risky migrations",
                    "Endpoints per service"):  # fmt: skip
        assert f"<h2>{heading}</h2>" in dom
    text = unescape(re.sub(r"<[^>]+>", " ", dom))
    assert "report failed: repo " in text and "not a directory" in text
    assert "drop-column" in text
    assert "migrations/0002_drop_total.sql" in unescape(re.sub(r"<[^>]+>", "", dom))
    links = re.findall(r'<a href="([^"]+)">(\w+)</a>', dom)
    assert {name for _, name in links} == {"orders", "users", "billing"}
    for href, _ in links:
        assert (out / href).is_file() and href.endswith("/report.html")
    badges = {  # the counts at the top of the page: one badge per severity found
        severity: int(count)
        for severity, count in re.findall(r'<span class="badge (\w+)">(\d+) \w+</span>', dom)
    }
    risks = [
        risk
        for task, line in results(out).items()
        if line["status"] == "ok"
        for risk in json.loads((out / "tasks" / task / "report.json").read_text())["risks"]
    ]
    assert badges == {
        r["severity"]: sum(x["severity"] == r["severity"] for x in risks) for r in risks
    }
    shot = tmp_path / "org.png"
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a rendered page, not a blank one
