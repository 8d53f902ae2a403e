from __future__ import annotations

import pytest

from jobcenter.core.text import storable


@pytest.mark.parametrize(
    ("text", "ok"),
    [("plain", True), ("Ünïcødé 图", True), ("", True), ("a\x00b", False), ("x\ud800", False)],
)
def test_storable_refuses_nul_and_lone_surrogates(text, ok):
    assert storable(text) is ok
