"""Properties of the rules over many generated inputs."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.analysis.project import Project
from backend_agent.analysis.security import analyze_security

identifiers = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)


def rules_fired(files: dict[str, str]) -> set[str]:
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in files.items():
            (Path(tmp) / name).write_text(source)
        return {f.rule for f in analyze_security(Project(Path(tmp)))}


@settings(max_examples=40, deadline=None)
@given(variable=identifiers, table=identifiers)
def test_interpolated_sql_is_flagged_and_bound_parameters_are_not(
    variable: str, table: str
) -> None:
    name = f"{variable}_"  # never a keyword
    source = (
        f"def handler(cursor, {name}):\n"
        f'    cursor.execute(f"SELECT * FROM {table} WHERE id = {{{name}}}")\n'
        f'    cursor.execute("SELECT * FROM {table} WHERE id = %s", ({name},))\n'
    )
    bound_only = source.splitlines()[0] + "\n" + source.splitlines()[2] + "\n"
    assert rules_fired({"handler.py": source}) == {"sql-injection"}
    assert rules_fired({"handler.py": bound_only}) == set()


@settings(max_examples=40, deadline=None)
@given(value=st.text(st.characters(codec="ascii", exclude_characters="'\\\n\r"), max_size=30))
def test_literals_are_never_secrets_when_the_name_is_not(value: str) -> None:
    source = f"const greeting = '{value}';\nconst url = '{value}';\n"
    assert "hardcoded-secret" not in rules_fired({"config.js": source})


@settings(max_examples=40, deadline=None)
@given(code=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=16))
def test_aws_key_ids_are_recognised_in_any_language(code: str) -> None:
    files = {
        "keys.rb": f'KEY_ID = "AKIA{code}"\n',
        "keys.go": f'package k\nvar id = "AKIA{code}"\n',
    }
    assert rules_fired(files) == {"hardcoded-secret.token-format"}


def test_very_long_concatenations_are_followed_without_recursion() -> None:
    terms = " +\n    ".join(["name"] * 5000)  # one per line, or the file looks minified
    query = f'"SELECT * FROM t WHERE a = " + {terms}'
    files = {
        "deep.py": f"def f(cursor, name):\n    cursor.execute({query})\n",
        "deep.js": f"function f(db, name) {{ db.query({query}); }}\n",
        "deep.go": f"package d\nfunc f(name string) {{ db.Query({query}) }}\n",
        "deep.rb": f'def f(name)\n  User.where("a = " + {terms})\nend\n',
    }
    for name, source in files.items():
        assert rules_fired({name: source}) == {"sql-injection"}, name


@settings(max_examples=40, deadline=None)
@given(
    parameter=identifiers,
    method=st.sampled_from(["get", "post", "put", "delete", "api_route"]),
    converted=st.sampled_from(["int", "float", "bool", "UUID", "Annotated[int, Path()]"]),
)
def test_route_parameters_are_request_data_unless_the_framework_converts_them(
    parameter: str, method: str, converted: str
) -> None:
    name = f"{parameter}_"  # never a keyword
    handler = (
        f'@router.{method}("/items/{{{name}}}")\n'
        f"def handler({name}: ANNOTATION, db: Session = Depends(get_db)):\n"
        f"    db.execute({name})\n"
        f'    db.execute(f"SELECT * FROM items WHERE id = {{{name}}}")\n'
        f"    return httpx.get({name})\n"
    )
    fired = rules_fired({"api.py": handler.replace("ANNOTATION", "str")})
    assert fired == {"sql-injection", "ssrf"}
    assert rules_fired({"api.py": handler.replace("ANNOTATION", converted)}) == set()
