"""Catalog rules: the program's fields, how a program matches the public filters, and search."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, get_args

import snowballstemmer

from navigator.domain.calendar import month_count
from navigator.domain.errors import InvalidInput

# Each enumeration once: the Literal types the request and response models validate with,
# and the tuples the rules and the demo data iterate over.
Direction = Literal[
    "technical", "natural_science", "physical_sports", "arts", "tourism", "social_humanitarian"
]
Funding = Literal["certificate", "free"]
Status = Literal["draft", "published", "archived"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)
FUNDINGS: tuple[str, ...] = get_args(Funding)
STATUSES: tuple[str, ...] = get_args(Status)

PROGRAM_FIELDS = (
    "program_id",
    "provider_id",
    "provider_name",
    "title",
    "description",
    "direction",
    "municipality",
    "address",
    "age_min",
    "age_max",
    "price_per_month_kopecks",
    "start_month",
    "end_month",
    "capacity",
    "seats_taken",
    "seats_left",
    "funding",
    "status",
)
FROZEN_WHILE_ENROLLED = ("funding", "start_month", "end_month")
# A contract is one DynamoDB transaction with an item per month (at most 100 items in all).
MAX_MONTHS = 24


def check_program(program: Mapping[str, Any]) -> None:
    """The rules between fields; each field's own rule is checked by the request model."""
    problems = []
    if program["age_min"] > program["age_max"]:
        problems.append({"field": "age_min", "problem": "must not exceed age_max"})
    if program["start_month"] > program["end_month"]:
        problems.append({"field": "start_month", "problem": "must not be after end_month"})
    elif month_count(program["start_month"], program["end_month"]) > MAX_MONTHS:
        problems.append(
            {"field": "end_month", "problem": f"a program runs {MAX_MONTHS} months at most"}
        )
    price = program["price_per_month_kopecks"]
    if program["funding"] == "free" and price != 0:
        problems.append(
            {"field": "price_per_month_kopecks", "problem": "must be 0 for a free program"}
        )
    if program["funding"] == "certificate" and price <= 0:
        problems.append(
            {
                "field": "price_per_month_kopecks",
                "problem": "must be above 0 for a certificate program",
            }
        )
    if problems:
        raise InvalidInput(details={"fields": problems})


def public_view(program: Mapping[str, Any]) -> dict[str, Any]:
    """The Program as API.md shows it."""
    view = {name: program.get(name) for name in PROGRAM_FIELDS if name != "seats_left"}
    view["description"] = view["description"] or ""
    view["address"] = view["address"] or ""
    view["seats_left"] = max(0, program["capacity"] - program["seats_taken"])
    return view


# ------------------------------------------------------------------ search

_WORD = re.compile(r"[0-9a-zа-я]+")
_RUSSIAN = snowballstemmer.stemmer("russian")
_ENGLISH = snowballstemmer.stemmer("english")


def normalize(text: str) -> str:
    """Case-folded, with ё read as е."""
    return text.lower().replace("ё", "е")


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of a word (Russian for Cyrillic, English for Latin)."""
    if word.isascii():
        return str(_ENGLISH.stemWord(word))
    return str(_RUSSIAN.stemWord(word))


def searchable_words(program: Mapping[str, Any]) -> set[str]:
    return set(words(f"{program.get('title') or ''} {program.get('description') or ''}"))


@dataclass(frozen=True)
class QueryWord:
    word: str
    stem: str


def query_words(q: str) -> list[QueryWord]:
    return [QueryWord(word, stem(word)) for word in dict.fromkeys(words(q))]


def word_matches(query: QueryWord, word: str) -> bool:
    """A prefix of the word, or a form of the same word (stems agree, or prefix by stem)."""
    return word.startswith(query.word) or stem(word).startswith(query.stem)


def matches_text(query: Iterable[QueryWord], program_words: set[str]) -> bool:
    return all(any(word_matches(q, w) for w in program_words) for q in query)


@dataclass(frozen=True)
class CatalogFilter:
    direction: str | None = None
    municipality: str | None = None
    age: int | None = None
    q: str | None = None
    provider_id: str | None = None
    funding: str | None = None
    has_seats: bool | None = None

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the query (for binding cursors to it)."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def matches(self, program: Mapping[str, Any]) -> bool:
        """Every filter but `q` (which the search index answers)."""
        if program.get("status") != "published":
            return False
        for name in ("direction", "municipality", "provider_id", "funding"):
            wanted = getattr(self, name)
            if wanted is not None and program.get(name) != wanted:
                return False
        if self.age is not None and not (program["age_min"] <= self.age <= program["age_max"]):
            return False
        if self.has_seats and program["seats_taken"] >= program["capacity"]:
            return False
        return True
