"""Search: which programs' titles and descriptions have words that a query's words match.

API.md's rule: a query word matches a program's word when it is a prefix of that word, or
when both are forms of the same Russian word. "Forms of the same word" means that the two
share a lemma in OpenCorpora's dictionary (pymorphy3), so «кружки» and «кружок», «песня»
and «песен», «дети» and «ребёнок» are forms of one word, while «лесу» (лес) and «лестница»
are not. Case is ignored and ё is read as е, in words and lemmas alike. A word the
dictionary does not know has no lemma: it matches only by prefix.

The analyzer is loaded only where it is needed (docs/decisions.md, "Search"): the snapshot
builder lemmatizes every catalog word and ships, in `SearchData`, the lemmas of each word
and a map from every form of every one of those lemmas to its lemmas. A query word is then
looked up in that map; one that is not in it shares no lemma with any catalog word (every
word that has such a lemma is a form in that lemma's paradigm, and the map holds the whole
paradigm), so it can match only by prefix. A container loads the analyzer only when the
change feed brings a word that the shipped index does not know.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

_WORD = re.compile(r"[0-9a-zа-я]+")


def fold(text: str) -> str:
    """Case-folded, with ё read as е."""
    return text.lower().replace("ё", "е")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def program_words(program: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """The words of a program's title, and those of its description."""
    return set(words(program.get("title") or "")), set(words(program.get("description") or ""))


def query_words(q: str) -> list[str]:
    """The distinct words of a query, in the order typed."""
    return list(dict.fromkeys(words(q)))


# ------------------------------------------------------------------ the dictionary


@cache
def _analyzer() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


def analyzer_loaded() -> bool:
    return _analyzer.cache_info().currsize > 0


def _dictionary_parses(word: str) -> list[Any]:
    """The analyzer's parses that come from the dictionary itself, not from its guesses."""
    from pymorphy3.units.by_lookup import DictionaryAnalyzer

    return [
        parse
        for parse in _analyzer().parse(word)
        if len(parse.methods_stack) == 1 and type(parse.methods_stack[0][0]) is DictionaryAnalyzer
    ]


@lru_cache(maxsize=131072)
def lemmas(word: str) -> frozenset[str]:
    """The lemmas of a (folded) word: empty for a word the dictionary doesn't know."""
    return frozenset(fold(parse.normal_form) for parse in _dictionary_parses(word))


@lru_cache(maxsize=65536)
def paradigm(lemma: str) -> frozenset[str]:
    """Every (folded) form of every dictionary word whose lemma is `lemma`.

    A word whose lemma is `lemma` has that lemma as its paradigm's first form, so parsing
    the lemma finds every such paradigm.
    """
    forms: set[str] = set()
    for parse in _dictionary_parses(lemma):
        if fold(parse.normal_form) == lemma:
            forms.update(fold(form.word) for form in parse.lexeme)
    return frozenset(forms)


# ------------------------------------------------------------------ the shipped index


@dataclass
class SearchData:
    """The index of a set of programs, each known by its position (0, 1, 2, ...).

    Lists of lists of numbers are kept flat, with offsets: list i of `title` is
    `title[title_at[i]:title_at[i + 1]]` (see `_at`). `words` is the sorted vocabulary;
    `title` has for each word the positions of the programs with it in their title, and
    `text` those with it in their title or description; `word_lemmas` its lemmas (indexes
    of `lemmas`). `forms` maps every form of every one of those lemmas to its entry in
    `form_lemmas`: the lemmas it is a form of.
    """

    words: Sequence[str]
    title: Sequence[int]
    title_at: Sequence[int]
    text: Sequence[int]
    text_at: Sequence[int]
    word_lemmas: Sequence[int]
    word_lemmas_at: Sequence[int]
    lemmas: Sequence[str]
    forms: Mapping[str, int]
    form_lemmas: Sequence[int]
    form_lemmas_at: Sequence[int]


def _at(flat: Sequence[int], offsets: Sequence[int], i: int) -> Sequence[int]:
    return flat[offsets[i] : offsets[i + 1]]


def _flatten(lists: Iterable[Iterable[int]]) -> tuple[array[int], array[int]]:
    flat, offsets = array("I"), array("I", [0])
    for positions in lists:
        flat.extend(positions)
        offsets.append(len(flat))
    return flat, offsets


def build_search_data(programs: Sequence[Mapping[str, Any]]) -> SearchData:
    """The index of these programs (this loads the analyzer)."""
    title_of: dict[str, list[int]] = defaultdict(list)
    text_of: dict[str, list[int]] = defaultdict(list)
    for position, program in enumerate(programs):
        title, description = program_words(program)
        for word in title:
            title_of[word].append(position)
        for word in title | description:
            text_of[word].append(position)
    vocabulary = sorted(text_of)
    lemma_ids: dict[str, int] = {}
    word_lemmas = [
        sorted(lemma_ids.setdefault(lemma, len(lemma_ids)) for lemma in lemmas(word))
        for word in vocabulary
    ]
    # A form of a lemma's paradigm has that lemma (the dictionary says so both ways), so
    # this is lemmas(form) & the catalog's lemmas; tests/catalog/test_relevance.py checks it.
    forms_of: dict[str, set[int]] = defaultdict(set)
    for lemma, lemma_id in lemma_ids.items():
        for form in paradigm(lemma):
            forms_of[form].add(lemma_id)
    forms = sorted(forms_of)
    return SearchData(
        vocabulary,
        *_flatten(title_of.get(word, []) for word in vocabulary),
        *_flatten(text_of[word] for word in vocabulary),
        *_flatten(word_lemmas),
        list(lemma_ids),
        {form: i for i, form in enumerate(forms)},
        *_flatten(sorted(forms_of[form]) for form in forms),
    )


EMPTY = SearchData([], [], [0], [], [0], [], [0], [], {}, [], [0])


def _prefixed(vocabulary: Sequence[str], prefix: str) -> range:
    """The indexes of the words that start with `prefix` (contiguous: it is sorted)."""
    start = bisect.bisect_left(vocabulary, prefix)
    end = bisect.bisect_left(vocabulary, prefix + "\uffff")
    return range(start, end)


@dataclass
class _Changed:
    """The index of the programs changed since the shipped index, by program id."""

    title: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    text: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    words_of: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)
    by_lemma: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    vocabulary: list[str] = field(default_factory=list)
    dirty: bool = False


@dataclass
class Found:
    """One query word's programs: shipped ones by position, changed ones by id."""

    title: set[int]
    text: set[int]
    changed_title: set[str]
    changed_text: set[str]

    def __and__(self, other: Found) -> Found:
        return Found(
            self.title & other.title,
            self.text & other.text,
            self.changed_title & other.changed_title,
            self.changed_text & other.changed_text,
        )


class WordIndex:
    """The shipped index of the programs at `ids` (loaded on first use), plus the changes.

    A program that changed since the shipped index was built is indexed afresh from its
    words, and its entries in the shipped index are no longer read.
    """

    def __init__(
        self, ids: Sequence[str] = (), load: Callable[[], SearchData] | None = None
    ) -> None:
        self._ids = ids
        self._load = load
        self._data: SearchData | None = None
        self._word_ids: dict[str, int] = {}
        self._lemma_ids: dict[str, int] = {}
        self._lemma_words: list[list[int]] = []
        self._changed = _Changed()
        self._changed_positions: set[int] = set()
        self._positions: dict[str, int] | None = None

    def _shipped(self) -> SearchData:
        if self._data is None:
            data = self._load() if self._load else EMPTY
            self._word_ids = {word: i for i, word in enumerate(data.words)}
            self._lemma_ids = {lemma: i for i, lemma in enumerate(data.lemmas)}
            self._lemma_words = [[] for _ in data.lemmas]
            for word_id in range(len(data.words)):
                for lemma_id in _at(data.word_lemmas, data.word_lemmas_at, word_id):
                    self._lemma_words[lemma_id].append(word_id)
            self._data = data
        return self._data

    def _word_lemmas(self, word: str) -> frozenset[str]:
        data = self._shipped()
        word_id = self._word_ids.get(word)
        if word_id is not None:
            ids = _at(data.word_lemmas, data.word_lemmas_at, word_id)
            return frozenset(data.lemmas[i] for i in ids)
        return lemmas(word)  # a word the shipped index has never seen: ask the dictionary

    def _query_lemmas(self, word: str) -> frozenset[str]:
        if analyzer_loaded():
            return lemmas(word)
        data = self._shipped()
        form = data.forms.get(word)
        if form is None:
            return frozenset()
        return frozenset(data.lemmas[i] for i in _at(data.form_lemmas, data.form_lemmas_at, form))

    # ------------------------------------------------------------ changes

    def update(self, program_id: str, program: Mapping[str, Any]) -> None:
        """Index a program's current title and description in place of what was known."""
        changed = self._changed
        if program_id not in changed.words_of:
            if self._positions is None:
                self._positions = {pid: i for i, pid in enumerate(self._ids)}
            position = self._positions.get(program_id)
            if position is not None:
                self._changed_positions.add(position)
        title, description = program_words(program)
        text = title | description
        old_title, old_text = changed.words_of.get(program_id, (set(), set()))
        for word in old_title - title:
            changed.title[word].discard(program_id)
        for word in old_text - text:
            changed.text[word].discard(program_id)
        for word in title - old_title:
            changed.title[word].add(program_id)
        for word in text - old_text:
            if word not in changed.text:
                changed.dirty = True
                for lemma in self._word_lemmas(word):
                    changed.by_lemma[lemma].add(word)
            changed.text[word].add(program_id)
        changed.words_of[program_id] = (title, text)

    # ------------------------------------------------------------ queries

    def matches(self, word: str) -> Found:
        """The programs with a word that `word` matches: in the title, and anywhere."""
        data = self._shipped()
        query_lemmas = self._query_lemmas(word)
        word_ids = set(_prefixed(data.words, word))
        for lemma in query_lemmas:
            lemma_id = self._lemma_ids.get(lemma)
            if lemma_id is not None:
                word_ids.update(self._lemma_words[lemma_id])
        found = Found(set(), set(), set(), set())
        for i in word_ids:
            found.title.update(_at(data.title, data.title_at, i))
            found.text.update(_at(data.text, data.text_at, i))
        if self._changed.words_of:
            found.title -= self._changed_positions
            found.text -= self._changed_positions
            for changed_word in self._changed_matches(word, query_lemmas):
                found.changed_title |= self._changed.title.get(changed_word, set())
                found.changed_text |= self._changed.text[changed_word]
        return found

    def _changed_matches(self, word: str, query_lemmas: Iterable[str]) -> set[str]:
        changed = self._changed
        if changed.dirty:
            changed.vocabulary = sorted(changed.text)
            changed.dirty = False
        found = {changed.vocabulary[i] for i in _prefixed(changed.vocabulary, word)}
        for lemma in query_lemmas:
            found |= changed.by_lemma.get(lemma, set())
        return found

    def search(self, query: Sequence[str]) -> tuple[set[str], set[str]]:
        """The ids of the programs whose title matches every word of the query, and of
        those where every word matches a word of the title or the description."""
        if not query:
            return set(), set()
        found = self.matches(query[0])
        for word in query[1:]:
            found &= self.matches(word)
        title = {self._ids[p] for p in found.title} | found.changed_title
        text = {self._ids[p] for p in found.text} | found.changed_text
        return title, text
