"""SNILS: the exact format, the official checksum, the mask and the keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from navigator.domain import snils


def with_checksum(nine: str) -> str:
    """A well-formed SNILS for nine digits, with its control number."""
    control = snils.control_number(nine)
    return f"{nine[:3]}-{nine[3:6]}-{nine[6:9]} {control:02d}"


def nine_digits_summing_to(target: int) -> str:
    """Nine digits whose weighted sum (weights 9..1) is `target`, found by a seeded search."""
    rng = random.Random(target)
    while True:
        nine = "".join(rng.choice("0123456789") for _ in range(9))
        if sum(int(d) * w for d, w in zip(nine, range(9, 0, -1), strict=True)) == target:
            return nine


def test_given_the_classic_example_when_checked_then_it_is_valid():
    # 1*9 + 1*8 + 2*7 + 2*6 + 3*5 + 3*4 + 4*3 + 4*2 + 5*1 = 95
    assert snils.control_number("112233445") == 95
    assert snils.is_valid("112-233-445 95")


@pytest.mark.parametrize(
    ("total", "control"),
    [(99, 99), (100, 0), (101, 0), (102, 1), (201, 0), (202, 0), (250, 48)],
)
def test_given_a_weighted_sum_when_the_control_number_is_taken_then_the_official_rule_holds(
    total, control
):
    # < 100: the sum; 100 and 101: 0; above: the sum mod 101, and a remainder of 100 is 0.
    assert snils.control_number(nine_digits_summing_to(total)) == control


def test_given_generated_numbers_when_checked_then_only_the_right_control_number_passes():
    rng = random.Random(7)
    for _ in range(500):
        nine = "".join(rng.choice("0123456789") for _ in range(9))
        good = with_checksum(nine)
        assert snils.is_valid(good), good
        wrong = (snils.control_number(nine) + rng.randint(1, 99)) % 100
        assert not snils.is_valid(good[:-2] + f"{wrong:02d}")


def test_given_a_low_number_when_checked_then_the_checksum_still_applies():
    assert snils.is_valid(with_checksum("001001998"))
    assert snils.problem("001-001-998 00") == snils.BAD_CHECKSUM


def test_given_a_wrong_checksum_when_checked_then_the_problem_is_the_checksum():
    assert snils.problem("112-233-445 96") == snils.BAD_CHECKSUM


@pytest.mark.parametrize(
    "text",
    [
        "11223344595",  # digits only
        "112-233-44595",  # no space
        "112233445 95",  # no hyphens
        "112-233445 95",  # a hyphen missing
        "112 233 445 95",  # spaces for hyphens
        "112-233-445  95",  # two spaces
        " 112-233-445 95",  # a leading space
        "112-233-445 95 ",  # a trailing space
        "112-233-445 95\n",  # a trailing newline
        "112-233-445 9",  # one control digit
        "112-233-445 095",  # three control digits
        "112-233-4450 95",  # ten digits
        "1a2-233-445 95",  # a letter
        "112-233-445 9O",  # a letter O
        "１１２-２３３-４４５ ９５",  # full-width digits
        "١١٢-٢٣٣-٤٤٥ ٩٥",  # Arabic-Indic digits
        "112–233–445 95",  # en dashes
        "112-233-445\u00a095",  # a no-break space
        "",
    ],
)
def test_given_a_malformed_string_when_checked_then_the_problem_is_the_format(text):
    assert snils.problem(text) == snils.BAD_FORMAT
    assert not snils.is_valid(text)


def test_given_a_valid_snils_when_masked_then_only_the_control_number_shows():
    assert snils.mask("112-233-445 95") == "***-***-*** 95"


def test_given_a_key_when_hashed_then_it_is_hmac_sha256_over_the_eleven_digits():
    key = b"k"
    expected = hmac.new(key, b"11223344595", hashlib.sha256).hexdigest()
    assert snils.snils_hash("112-233-445 95", key) == expected
    assert snils.snils_hash("112-233-445 95", b"other") != expected
    assert "11223344595" not in expected


def test_given_a_malformed_string_when_masked_or_hashed_then_it_is_refused():
    with pytest.raises(ValueError):
        snils.mask("11223344595")
    with pytest.raises(ValueError):
        snils.snils_hash("11223344595", b"k")
