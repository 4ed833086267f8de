"""How a score is shown to people, in one place: one decimal, cut off rather than rounded, so that a red
39.96 never reads as 40.0, the start of yellow (the dbt macro format_score does the same in SQL)."""

from decimal import ROUND_DOWN, Decimal


def cut_to_one_decimal(value: float | Decimal) -> Decimal:
    """The value with one decimal, the rest cut off, from its shortest decimal text (so the float 20.3 is 20.3)."""
    return Decimal(repr(float(value)) if isinstance(value, float) else str(value)).quantize(
        Decimal("0.1"), rounding=ROUND_DOWN
    )
