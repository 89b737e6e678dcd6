"""Property tests: Edit and MultiEdit act like str.replace applied in order, or change nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from backend_agent.tools import ToolSession

# Few letters so that random old_strings often occur once, several times, or not at all.
text = st.text(alphabet="ab\né", max_size=40)
needle = st.text(alphabet="ab\né", min_size=1, max_size=4)
edit = st.fixed_dictionaries(
    {"old_string": needle, "new_string": st.text(alphabet="abc\né", max_size=4)},
    optional={"replace_all": st.booleans()},
)


def expected_after(content: str, edits: list[dict[str, object]]) -> str | None:
    """The model of the contract: sequential str.replace, or None when any edit must fail."""
    for item in edits:
        old, new = str(item["old_string"]), str(item["new_string"])
        count = content.count(old)
        if old == new or count == 0 or (count > 1 and not item.get("replace_all", False)):
            return None
        content = (
            content.replace(old, new) if item.get("replace_all") else content.replace(old, new, 1)
        )
    return content


def run_on_file(content: str, tool: str, payload: dict[str, object]) -> tuple[bool, bytes, bytes]:
    """Write ``content``, Read it, call the tool; return (is_error, bytes before, bytes after)."""
    with tempfile.TemporaryDirectory() as directory, ToolSession(directory) as session:
        path = Path(directory) / "f.txt"
        path.write_bytes(content.encode())
        before = path.read_bytes()
        assert not session.call("Read", {"file_path": "f.txt"}).is_error
        result = session.call(tool, {"file_path": "f.txt", **payload})
        return result.is_error, before, path.read_bytes()


@settings(max_examples=150, deadline=None)
@given(content=text, item=edit)
def test_edit_agrees_with_str_replace(content: str, item: dict[str, object]) -> None:
    is_error, before, after = run_on_file(content, "Edit", item)
    expected = expected_after(content, [item])
    if expected is None:
        assert is_error and after == before
    else:
        assert not is_error and after == expected.encode()


@settings(max_examples=150, deadline=None)
@given(content=text, edits=st.lists(edit, min_size=1, max_size=4))
def test_multiedit_is_sequential_application_or_nothing(
    content: str, edits: list[dict[str, object]]
) -> None:
    is_error, before, after = run_on_file(content, "MultiEdit", {"edits": edits})
    expected = expected_after(content, edits)
    if expected is None:
        assert is_error and after == before
    else:
        assert not is_error and after == expected.encode()
