"""Uncertainty deductions: turn an estimate and its 90 % CI into a conservative creditable value.

Rules (methodologies.md §5 and the verification pass §7):

``ccer-conservative`` (default)
    CDM/CCER forestry practice: no deduction when the 90 % CI half-width is within ±10 % of the
    mean; otherwise the conservative bound of the interval (mean − half-width) is used.
    Recalled, not read in a primary text [R]: results using it list it as unconfirmed.
``vm0033``
    VM0033 v2.1 eq. 92: if the error exceeds the allowable 20 % (90 % CI), adjusted value =
    value × (1 − error + allowable) [V]. Test T9: 1000 t, 25 % → 950 t.
``art-trees``
    ART-TREES 2.0: deduction = value × UA, UA = 0.524417 × HW90 / 1.645006 [V2]. Test T10:
    HW 15 % → UA 4.782 %.
``vm0042``
    VM0042 v2.2 eqs 44-45: UNC = (SE / mean) × t(0.667 one-sided, df) (≈ 0.4307 at large n),
    deduction = value × UNC [V2].
``none``
    No deduction (reporting only).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from mrv.errors import InputError
from mrv.settings import UncertaintyRule
from mrv.stats import t_value

RULE_CONFIRMED: dict[str, bool] = {
    "ccer-conservative": False,
    "vm0033": True,
    "art-trees": False,
    "vm0042": False,
    "none": True,
}
"""Whether each rule was read in its primary text (see the module docstring)."""


@dataclass(frozen=True)
class Deduction:
    """The result of applying an uncertainty deduction rule to one estimate."""

    rule: str
    value: float
    """The estimate before deduction."""
    relative_half_width: float
    """Half-width of the 90 % CI as a fraction of |value|."""
    deduction_fraction: float
    """Fraction of |value| deducted."""
    deduction: float
    """Amount deducted (same unit as value, >= 0 for a positive value)."""
    conservative_value: float
    """value − deduction."""
    rule_confirmed: bool
    """Whether the rule was read in its primary text."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping (an undefined relative half-width, at value 0, becomes None)."""
        out = asdict(self)
        if not math.isfinite(self.relative_half_width):
            out["relative_half_width"] = None
        return out


def deduct(
    value: float,
    half_width_90: float,
    *,
    rule: UncertaintyRule = "ccer-conservative",
    df: float = math.inf,
    threshold: float = 0.10,
    allowable: float = 0.20,
) -> Deduction:
    """Apply ``rule`` to ``value`` with a 90 % CI half-width ``half_width_90``.

    ``threshold`` is the ccer-conservative precision below which nothing is deducted; ``allowable``
    is VM0033's allowable uncertainty; ``df`` the degrees of freedom behind the interval (VM0042).
    """
    if half_width_90 < 0 or math.isnan(half_width_90):
        raise InputError(f"half-width must be a non-negative number, got {half_width_90}")
    rel = half_width_90 / abs(value) if value != 0 else math.inf
    size = abs(value)
    if rule == "none" or value == 0:
        fraction = 0.0
    elif rule == "ccer-conservative":
        fraction = 0.0 if rel <= threshold else rel
    elif rule == "vm0033":
        fraction = max(0.0, rel - allowable)
    elif rule == "art-trees":
        fraction = 0.524417 * rel / 1.645006
    elif rule == "vm0042":
        se_rel = rel / t_value(0.90, df)
        t_0667 = t_value(1.0 / 3.0, df)  # one-sided quantile at p = 2/3 (33.3rd percentile)
        fraction = se_rel * t_0667
    else:  # pragma: no cover - Literal exhausts the options
        raise InputError(f"unknown uncertainty deduction rule {rule!r}")
    fraction = min(fraction, 1.0)
    deduction = size * fraction
    return Deduction(
        rule=rule,
        value=value,
        relative_half_width=rel,
        deduction_fraction=fraction,
        deduction=deduction,
        conservative_value=value - deduction,
        rule_confirmed=RULE_CONFIRMED[rule],
    )
