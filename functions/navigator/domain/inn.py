"""The Russian taxpayer number (ИНН): 10 digits for organisations, 12 for individuals."""

from __future__ import annotations

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def control_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10


def inn_is_valid(inn: str) -> bool:
    if not (isinstance(inn, str) and inn.isascii() and inn.isdigit()):
        return False
    if len(inn) == 10:
        return control_digit(inn[:9], INN10_WEIGHTS) == int(inn[9])
    if len(inn) == 12:
        return control_digit(inn[:10], INN12_WEIGHTS_1) == int(inn[10]) and control_digit(
            inn[:11], INN12_WEIGHTS_2
        ) == int(inn[11])
    return False
