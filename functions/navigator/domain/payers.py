"""Payers and budgets: municipality names, the regional payer, and a budget's count in slices."""

from __future__ import annotations

REGION = "region"
REGION_NAME = "Краевой бюджет"
DEFAULT_ADVANCE_PERCENT = 80
# A budget's count lives in this many items (docs/decisions.md, 29).
BUDGET_SHARDS = 32


def municipality_key(name: str) -> str:
    """Municipality names compare without case, with ё read as е and surrounding spaces trimmed."""
    return name.strip().casefold().replace("ё", "е")


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` in `parts` whole slices; the first `total mod parts` carry one more."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def spread_change(lefts: list[int], delta: int) -> list[int]:
    """How much each slice's count of certificates left changes so that they change by `delta`.

    A rise is spread evenly; a cut is taken from the fullest slices first, never below zero
    (the caller has checked that `-delta <= sum(lefts)`).
    """
    if delta >= 0:
        return split_evenly(delta, len(lefts))
    if -delta > sum(lefts):
        raise ValueError("the cut is more than what is left")
    after = list(lefts)
    cut = -delta
    # Level the fullest slices down: the result is as even as the slices allow.
    while cut:
        top = max(after)
        tops = [i for i, left in enumerate(after) if left == top]
        below = max((left for left in after if left < top), default=0)
        step = min(top - below, max(cut // len(tops), 1))
        for i in tops:
            if not cut:
                break
            take = min(step, cut)
            after[i] -= take
            cut -= take
    return [a - b for a, b in zip(after, lefts, strict=True)]
