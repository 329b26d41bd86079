"""Money conversions: exact, and refused where they could not be exact."""

from __future__ import annotations

import pytest

from mrv.errors import RegistryInputError
from mrv.registry.money import share_to_bp, to_fen, yuan, yuan_to_li


def test_exact_conversions() -> None:
    assert to_fen("73.41", "price") == 7341
    assert yuan_to_li("16.926", "payment") == 16926
    assert share_to_bp("0.8", "share") == 8000
    assert yuan(1693) == "16.93"
    assert to_fen("999999999999.99", "fees") == 99_999_999_999_999  # just below 10^12 yuan


@pytest.mark.parametrize("value", ["1000000000000", "9" * 30, "-1e12", "1E+40"])
def test_amounts_too_large_for_exact_storage_are_refused(value: str) -> None:
    with pytest.raises(RegistryInputError, match="too large"):
        to_fen(value, "fees")
    with pytest.raises(RegistryInputError, match="too large"):
        yuan_to_li(value, "payment")


@pytest.mark.parametrize("value", ["1.001", "-1", "abc", "NaN"])
def test_bad_amounts_name_the_field(value: str) -> None:
    with pytest.raises(RegistryInputError) as info:
        to_fen(value, "fees_yuan")
    assert info.value.detail["field"] == "fees_yuan"
