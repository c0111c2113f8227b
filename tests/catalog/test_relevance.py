"""Search relevance: the maintained set of query/title pairs, and the shipped index's
word-form map against the dictionary itself (API.md, "Search")."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from infra.local.demo_catalog import demo_programs
from navigator.domain import search

RELEVANCE = Path(__file__).with_name("relevance.tsv")


def pairs() -> list[dict[str, str]]:
    with RELEVANCE.open(encoding="utf-8") as lines:
        return list(csv.DictReader((x for x in lines if not x.startswith("#")), delimiter="\t"))


def title_index(titles: list[str]) -> search.WordIndex:
    data = search.build_search_data([{"title": t, "description": ""} for t in titles])
    return search.WordIndex(titles, lambda: data)


@pytest.fixture(params=["shipped index", "analyzer"])
def lookup(request, monkeypatch):
    """A query is answered from the shipped form map (a container that never loaded the
    analyzer) or with the analyzer (one that did)."""
    search.lemmas("танец")  # the builder has loaded it
    if request.param == "shipped index":
        monkeypatch.setattr(search, "analyzer_loaded", lambda: False)
    return request.param


def test_the_relevance_set_has_precision_and_recall_1(lookup, capsys):
    rows = pairs()
    kinds = Counter(row["case"] for row in rows)
    assert len(rows) >= 150 and len({(r["query"], r["title"]) for r in rows}) == len(rows)
    assert set(kinds) >= {
        "prefix",
        "case",
        "yo",
        "plural",
        "oblique",
        "fleeting vowel",
        "suppletion",
        "near miss",
        "unknown word",
        "several words",
    }
    titles = sorted({row["title"] for row in rows})
    index = title_index(titles)
    counts: Counter[str] = Counter()
    wrong = []
    for row in rows:
        found = row["title"] in index.search(search.query_words(row["query"]))[0]
        wanted = row["expected"] == "match"
        counts[("true " if found == wanted else "false ") + ("hit" if found else "miss")] += 1
        if found != wanted:
            wrong.append((row["query"], row["title"], row["expected"]))
    precision = counts["true hit"] / (counts["true hit"] + counts["false hit"])
    recall = counts["true hit"] / (counts["true hit"] + counts["false miss"])
    with capsys.disabled():
        print(
            f"\nrelevance ({lookup}): {len(rows)} pairs, precision {precision:.3f}, "
            f"recall {recall:.3f}, {dict(counts)}"
        )
    assert wrong == []
    assert (precision, recall) == (1.0, 1.0)


def test_a_word_not_in_the_shipped_map_shares_no_lemma_with_the_catalog():
    """The shipped map holds, for every form of every catalog lemma, exactly the catalog
    lemmas it is a form of; any other word has none of them, so only a prefix can match."""
    programs = demo_programs()
    data = search.build_search_data(programs[:150])
    catalog_lemmas = set(data.lemmas)
    others = {w for p in programs for w in search.words(f"{p['title']} {p['description']}")}
    others |= {w[:n] for w in data.words for n in range(2, len(w))}  # words being typed
    others |= {w for row in pairs() for w in search.query_words(row["query"])}
    for form, entry in data.forms.items():
        ids = data.form_lemmas[data.form_lemmas_at[entry] : data.form_lemmas_at[entry + 1]]
        assert {data.lemmas[i] for i in ids} == search.lemmas(form) & catalog_lemmas, form
    strangers = others - data.forms.keys()
    assert len(strangers) > 1000
    for word in strangers:
        assert not search.lemmas(word) & catalog_lemmas, word


def test_changed_programs_are_searched_in_place_of_their_shipped_entries():
    index = title_index(["Шахматы", "Кружок рисования"])
    assert index.search(["шахматам"])[0] == {"Шахматы"}
    index.update("Шахматы", {"title": "Шашки", "description": "и немного шахмат"})
    index.update("new", {"title": "Танцы", "description": ""})  # a word never shipped
    assert index.search(["шахматам"]) == (set(), {"Шахматы"})
    assert index.search(["шашкам"])[0] == {"Шахматы"}
    assert index.search(["танец"])[0] == {"new"}
    assert index.search(["кружки", "рисования"])[0] == {"Кружок рисования"}
    index.update("new", {"title": "Хор", "description": ""})
    assert index.search(["танец"]) == (set(), set())
