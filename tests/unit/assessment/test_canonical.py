"""canonical_json: the receipt's canonical profile text, written by orjson, is json.dumps byte for byte
(a receipt written by an earlier version must still match)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kapdecide.assessment.assess import canonical_json

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # over 64 bits too: orjson refuses them, json writes them
    st.floats(allow_nan=False, allow_infinity=False),  # 1e-05, 1.5e-07, 1e+16: where orjson differs
    st.text(),  # lone surrogates, control characters, "1e-5" inside a string
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def reference(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@settings(derandomize=True, max_examples=3000, deadline=None)
@given(JSON)
def test_canonical_json_is_json_dumps_byte_for_byte(data: Any) -> None:
    assert canonical_json(data) == reference(data)


def test_the_floats_where_orjson_writes_other_text() -> None:
    for x in (1e-05, 1.5e-07, -3e-300, 5e-324, 0.00012, 1e16, 1.2345678901234568e17, 2**70):
        assert canonical_json({"v": x, "w": [x]}) == reference({"v": x, "w": [x]})
