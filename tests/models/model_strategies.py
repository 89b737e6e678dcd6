"""Hypothesis strategies shared by the model tests: texts and the JSON of tool inputs."""

from __future__ import annotations

from hypothesis import strategies as st

TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=8,
)
TOOL_INPUTS = st.dictionaries(TEXTS, JSON_VALUES, max_size=4)
