"""Stack detection on small fixture repositories, one per language family and a monorepo."""

import json
import shutil
from pathlib import Path

import pytest

from backend_agent.analysis.stack import detect_stack
from backend_agent.cli import main

FIXTURES = Path(__file__).parent.parent / "fixtures" / "stack"


def component(stack, path):
    return next(c for c in stack.components if c.path == path)


def runners(comp):
    return [(r.name, r.command) for r in comp.test_runners]


def test_node_monorepo_lists_each_workspace_with_the_root_lockfile_manager():
    stack = detect_stack(FIXTURES / "node-monorepo")
    assert [c.path for c in stack.components] == [".", "services/api", "services/worker"]
    root = component(stack, ".")
    assert root.workspaces == ["services/*"]
    assert root.names("databases") == ["PostgreSQL"]  # from the docker-compose image
    assert root.names("queues") == ["RabbitMQ"]
    api = component(stack, "services/api")
    assert api.names("package_managers") == ["pnpm"]
    assert api.names("frameworks") == ["Express"]
    assert api.names("migration_tools") == ["Knex"]
    assert api.names("queues") == ["Kafka"]
    assert runners(api) == [("jest", "pnpm test")]
    worker = component(stack, "services/worker")
    assert worker.names("languages") == ["JavaScript", "TypeScript"]
    assert worker.names("queues") == ["RabbitMQ", "Redis", "SQS"]
    assert worker.facts["queues"]["Redis"] == "services/worker/package.json: bullmq"
    assert worker.names("orms") == ["TypeORM"]
    assert runners(worker) == [("vitest", "pnpm test")]
    assert stack.queues == ["Kafka", "RabbitMQ", "Redis", "SQS"]


def test_poetry_project_runs_pytest_through_poetry():
    stack = detect_stack(FIXTURES / "python-poetry")
    assert stack.languages == ["Python"]
    assert stack.package_managers == ["poetry"]
    assert stack.frameworks == ["FastAPI"]
    assert stack.databases == ["PostgreSQL"]
    assert stack.orms == ["SQLAlchemy"]
    assert stack.migration_tools == ["Alembic"]
    assert stack.queues == ["RabbitMQ"]
    assert [(r.name, r.command) for r in stack.test_runners] == [
        ("pytest", "poetry run python -m pytest")
    ]


def test_requirements_files_are_read_with_extras_comments_and_dev_files():
    stack = detect_stack(FIXTURES / "python-requirements")
    assert stack.package_managers == ["pip"]
    assert stack.frameworks == ["Django", "Django REST framework"]
    assert stack.databases == ["MySQL"]  # mysqlclient, from requirements-dev.txt
    assert stack.queues == ["Celery", "Kafka", "Redis", "SQS"]
    assert stack.migration_tools == ["Django migrations"]
    assert [(r.name, r.command) for r in stack.test_runners] == [
        ("django", "python manage.py test")
    ]


def test_go_module_requirements_match_across_major_versions():
    stack = detect_stack(FIXTURES / "go-service")
    assert stack.frameworks == ["Gin"]
    assert stack.databases == ["PostgreSQL"]
    assert stack.orms == ["GORM"]
    assert stack.migration_tools == ["goose"]
    assert stack.queues == ["Kafka", "RabbitMQ", "Redis"]
    assert [(r.name, r.command) for r in stack.test_runners] == [("go test", "go test ./...")]


def test_rails_app_from_gemfile_and_layout():
    stack = detect_stack(FIXTURES / "ruby-rails")
    assert stack.package_managers == ["bundler"]
    assert stack.frameworks == ["Rails"]
    assert stack.orms == ["ActiveRecord"]  # only in Gemfile.lock
    assert stack.migration_tools == ["ActiveRecord migrations"]
    assert stack.queues == ["Kafka", "RabbitMQ", "Redis", "SQS"]
    assert [(r.name, r.command) for r in stack.test_runners] == [("rspec", "bundle exec rspec")]


@pytest.mark.parametrize(
    ("lockfile", "manager", "command"),
    [
        ("package-lock.json", "npm", "npm test"),
        ("yarn.lock", "yarn", "yarn test"),
        ("pnpm-lock.yaml", "pnpm", "pnpm test"),
        ("bun.lockb", "bun", "bun run test"),
    ],
)
def test_lockfile_decides_the_node_package_manager(tmp_path, lockfile, manager, command):
    (tmp_path / "package.json").write_text(
        json.dumps({"scripts": {"test": "mocha"}, "devDependencies": {"mocha": "10"}})
    )
    (tmp_path / lockfile).write_text("")
    stack = detect_stack(tmp_path)
    assert stack.package_managers == [manager]
    assert [(r.name, r.command) for r in stack.test_runners] == [("mocha", command)]


@pytest.mark.parametrize(
    ("scripts", "runner", "evidence"),
    [
        ({"test": "npm run lint && npm run test:unit", "lint": "eslint .",
          "test:unit": "vitest run"}, "vitest", "scripts.test → scripts.test:unit: vitest"),
        ({"test": "cross-env NODE_ENV=test nyc --reporter lcov mocha 'test/**/*.js'"},
         "mocha", "scripts.test: mocha"),
        ({"test": "run-s test:*", "test:unit": "jest", "test:e2e": "playwright test"},
         "jest", "scripts.test → scripts.test:unit: jest"),
        ({"test": "dotenv -e .env.test -- node --test test/"}, "node:test",
         "scripts.test: node:test"),
        ({"test": "node --experimental-vm-modules node_modules/jest/bin/jest.js"}, "jest",
         "scripts.test: jest"),
        ({"test": "yarn e2e", "e2e": "start-server-and-test start :3000 cy:run",
          "cy:run": "cypress run"}, "cypress",
         "scripts.test → scripts.e2e → scripts.cy:run: cypress"),
        ({"test": "react-scripts test --watchAll=false"}, "jest", "scripts.test: jest"),
        ({"test": "echo tap is great && ./node_modules/.bin/ava"}, "ava", "scripts.test: ava"),
    ],
)  # fmt: skip
def test_the_runner_is_what_npm_test_really_runs(tmp_path, scripts, runner, evidence):
    dev = {"jest": "29", "mocha": "10", "vitest": "1", "@playwright/test": "1", "cypress": "13"}
    (tmp_path / "package.json").write_text(json.dumps({"scripts": scripts, "devDependencies": dev}))
    [found] = detect_stack(tmp_path).test_runners
    assert (found.name, found.command, found.evidence) == (
        runner,
        "npm test",
        f"package.json: {evidence}",
    )


def test_playwright_and_cypress_run_directly_without_a_test_script(tmp_path):
    (tmp_path / "package.json").write_text(
        json.dumps({"devDependencies": {"@playwright/test": "1.44", "cypress": "13"}})
    )
    assert [(r.name, r.command) for r in detect_stack(tmp_path).test_runners] == [
        ("cypress", "npx --no-install cypress run"),
        ("playwright", "npx --no-install playwright test"),
    ]


def test_default_npm_test_script_is_not_a_test_runner(tmp_path):
    (tmp_path / "package.json").write_text(
        json.dumps({"scripts": {"test": 'echo "Error: no test specified" && exit 1'}})
    )
    assert detect_stack(tmp_path).test_runners == []


def test_empty_directory_has_one_empty_component(tmp_path):
    stack = detect_stack(tmp_path)
    assert [c.path for c in stack.components] == ["."]
    assert stack.as_dict()["languages"] == []


def test_cli_json_output(tmp_path, capsys):
    shutil.copytree(FIXTURES / "go-service", tmp_path / "svc")
    assert main(["stack", str(tmp_path / "svc"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["languages"] == ["Go"]
    assert data["test_runners"][0]["command"] == "go test ./..."
    assert data["components"][0]["frameworks"] == [
        {"name": "Gin", "evidence": "go.mod: github.com/gin-gonic/gin"}
    ]


def test_cli_table_output_names_each_component(capsys):
    assert main(["stack", str(FIXTURES / "node-monorepo")]) == 0
    out = capsys.readouterr().out
    assert "services/worker" in out
    assert "vitest: pnpm test" in out


def write(root, files):
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def test_python_manifests_each_name_their_manager(tmp_path):
    write(
        tmp_path,
        {
            "pipenv/Pipfile": '[packages]\nflask = "*"\n[dev-packages]\npytest = "*"\n',
            "uv/pyproject.toml": '[project]\nname = "a"\ndependencies = ["aiokafka>=0.10"]\n'
            "[tool.uv]\ndev-dependencies = []\n",
            "cfg/setup.cfg": "[metadata]\nname = a\n[options]\ninstall_requires =\n"
            "    asyncpg\n    rq>=1\n",
            "legacy/setup.py": "setup(name='a', install_requires=['sanic>=22', 'pika'])\n",
            "legacy/test_app.py": "import unittest\n",
        },
    )
    stack = detect_stack(tmp_path)
    by_path = {c.path: c for c in stack.components}
    assert by_path["pipenv"].names("package_managers") == ["pipenv"]
    assert by_path["pipenv"].names("frameworks") == ["Flask"]
    assert runners(by_path["pipenv"]) == [("pytest", "pipenv run python -m pytest")]
    assert by_path["uv"].names("package_managers") == ["uv"]
    assert by_path["uv"].names("queues") == ["Kafka"]
    assert by_path["cfg"].names("databases") == ["PostgreSQL"]
    assert by_path["cfg"].names("queues") == ["Redis"]
    assert by_path["legacy"].names("frameworks") == ["Sanic"]
    assert by_path["legacy"].names("queues") == ["RabbitMQ"]
    assert runners(by_path["legacy"]) == [("unittest", "python -m unittest discover -p 'test*.py'")]


def test_yarn_workspace_package_inherits_the_root_manager(tmp_path):
    write(
        tmp_path,
        {
            "package.json": json.dumps(
                {"packageManager": "yarn@4.1.0", "workspaces": {"packages": ["apps/*"]}}
            ),
            "apps/web/package.json": json.dumps(
                {"dependencies": {"fastify": "4"}, "devDependencies": {"ava": "6"}}
            ),
        },
    )
    stack = detect_stack(tmp_path)
    web = component(stack, "apps/web")
    assert web.names("package_managers") == ["yarn"]
    assert runners(web) == [("ava", "npx --no-install ava")]
    assert component(stack, ".").workspaces == ["apps/*"]


def test_fixture_directories_are_not_components(tmp_path):
    write(
        tmp_path,
        {
            "go.mod": "module example.com/a\n\ngo 1.22\n",
            "tests/fixtures/app/package.json": json.dumps({"dependencies": {"express": "4"}}),
            "internal/testdata/Gemfile": 'gem "rails"\n',
        },
    )
    stack = detect_stack(tmp_path)
    assert [c.path for c in stack.components] == ["."]
    assert stack.frameworks == []
