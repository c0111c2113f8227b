"""The personal insurance number (СНИЛС): `XXX-XXX-XXX YY`, YY a checksum of the nine digits.

A SNILS is personal data: it is stored only as a keyed hash (for uniqueness) and a mask.
"""

from __future__ import annotations

import hashlib
import hmac
import re

# ASCII digits only ("\d" would take other scripts' digits); fullmatch, so no trailing newline.
FORMAT = re.compile(r"[0-9]{3}-[0-9]{3}-[0-9]{3} [0-9]{2}")
BAD_FORMAT = "must be a string XXX-XXX-XXX YY"
BAD_CHECKSUM = "has a wrong checksum"


def has_format(snils: str) -> bool:
    return isinstance(snils, str) and FORMAT.fullmatch(snils) is not None


def digits(snils: str) -> str:
    """The 11 digits of a well-formed SNILS; ValueError for anything else."""
    if not has_format(snils):
        raise ValueError(BAD_FORMAT)
    return snils.replace("-", "").replace(" ", "")


def control_number(number: str) -> int:
    """The official control number of the nine-digit number (weights 9 down to 1)."""
    total = sum(int(d) * w for d, w in zip(number, range(9, 0, -1), strict=True))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    remainder = total % 101
    return 0 if remainder == 100 else remainder


def problem(snils: str) -> str | None:
    """Why the SNILS is invalid, or None if it is valid (the checksum applies to every number)."""
    if not has_format(snils):
        return BAD_FORMAT
    all_digits = digits(snils)
    if control_number(all_digits[:9]) != int(all_digits[9:]):
        return BAD_CHECKSUM
    return None


def is_valid(snils: str) -> bool:
    return problem(snils) is None


def mask(snils: str) -> str:
    """`***-***-*** YY`: only the control number stays visible."""
    return "***-***-*** " + digits(snils)[9:]


def snils_hash(snils: str, key: bytes) -> str:
    """HMAC-SHA256 (hex) of the 11 digits: the uniqueness key, useless without `key`."""
    return hmac.new(key, digits(snils).encode("ascii"), hashlib.sha256).hexdigest()
