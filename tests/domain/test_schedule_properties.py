"""Property-based tests of the funding split (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from navigator.domain.enrollment import fund, split_evenly


@given(total=st.integers(0, 10**9), parts=st.integers(1, 12))
def test_split_is_whole_kopecks_adding_up_with_the_remainder_first(total, parts):
    amounts = split_evenly(total, parts)
    assert len(amounts) == parts and sum(amounts) == total
    assert max(amounts) - min(amounts) <= 1
    assert amounts == sorted(amounts, reverse=True)
    assert amounts.count(total // parts + 1) == (total % parts if total % parts else 0)


@given(
    price=st.integers(1, 10**7),
    months=st.integers(1, 12),
    balance=st.integers(0, 10**8),
)
def test_the_certificate_covers_what_it_can_and_the_parent_the_rest(price, months, balance):
    funding = fund([f"2026-{m:02d}" for m in range(1, months + 1)], price, balance)
    assert funding.certificate_total == min(price * months, balance)
    assert funding.certificate_total + funding.copay_total == price * months
    for month in funding.schedule():
        assert 0 <= month["certificate_kopecks"] <= price
        assert month["certificate_kopecks"] + month["copay_kopecks"] == price
