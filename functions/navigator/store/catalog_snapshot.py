"""Each container's in-memory snapshot of the catalog, kept fresh from the change feed.

A container's first list request loads the snapshot's blob from S3 (built every minute by
the snapshot function) and reads the feed only for what changed since the blob's
watermarks; later requests read the feed at most once per refresh interval. Filtering,
search and paging cost no reads at all. See docs/decisions.md ("The public catalog").
"""

from __future__ import annotations

import bisect
import json
import logging
import struct
import threading
import time
import zlib
from array import array
from collections.abc import Iterator, Mapping
from typing import Any

from navigator.domain.catalog import CatalogFilter
from navigator.domain.search import SearchData, WordIndex, build_search_data
from navigator.settings import get_settings
from navigator.store.catalog import FEED_SHARDS, SeatsItem, changed_items
from navigator.store.snapshot_blob import read_blob

BLOB_FORMAT = 2
LOG = logging.getLogger(__name__)

# A writer's clock may lag the reader's; re-reading this much of the feed catches its changes.
FEED_OVERLAP_MS = 2_000

# The blob: b"NAV2", the length of its table of contents, the table (JSON: each section's
# offset and length), then the sections, each zlib-compressed on its own, so that a cold
# container decompresses only what it reads, and reads no more JSON than it must:
# - "meta" (JSON): the watermarks, each text fact's distinct values, the seat counters of
#   programs not in the blob, the lengths of the arrays below;
# - "ids" (the programs' ids in order, one a line) and "facts" (uint32 arrays: the fields
#   the filters read, text ones as indexes of their values, then the seat counters);
# - the programs themselves, CHUNK to a "chunk<n>" (JSON), decoded when one is answered;
# - the search index: "words", "lemmas" and "forms" (one a line) and "postings" (uint32
#   arrays), decoded by the first query with `q`.
MAGIC = b"NAV2"
CHUNK = 64
TEXT_FACTS = ("status", "direction", "municipality", "provider_id", "funding")
NUMBER_FACTS = ("age_min", "age_max", "capacity", "version")
FACTS = TEXT_FACTS + NUMBER_FACTS
_CHUNK_KEY = "_chunk"  # in the facts of a program whose chunk is not decoded yet
_SEATS = ("seats_version", "seats_taken")
_POSTINGS = (
    "title",
    "title_at",
    "text",
    "text_at",
    "word_lemmas",
    "word_lemmas_at",
    "form_lemmas",
    "form_lemmas_at",
)


def _lines(values: list[str]) -> bytes:
    return "\n".join(values).encode()


def _unlines(raw: bytes) -> list[str]:
    return raw.decode().split("\n") if raw else []


def _arrays(arrays: list[Any]) -> tuple[bytes, list[int]]:
    packed = [a if isinstance(a, array) else array("I", a) for a in arrays]
    return b"".join(a.tobytes() for a in packed), [len(a) for a in packed]


def _unarrays(raw: bytes, lengths: list[int]) -> list[array[int]]:
    out, start = [], 0
    for length in lengths:
        out.append(array("I", raw[start : start + 4 * length]))
        start += 4 * length
    return out


def _pack(sections: dict[str, bytes]) -> bytes:
    offsets, body, offset = {}, [], 0
    for name, raw in sections.items():
        packed = zlib.compress(raw, 6)
        offsets[name] = [offset, len(packed)]
        body.append(packed)
        offset += len(packed)
    toc = json.dumps({"format": BLOB_FORMAT, "sections": offsets}).encode()
    return MAGIC + struct.pack(">I", len(toc)) + toc + b"".join(body)


class _Blob:
    def __init__(self, data: bytes) -> None:
        self.format: int | None = None
        self._sections: dict[str, list[int]] = {}
        if data[:4] != MAGIC:
            return
        (length,) = struct.unpack(">I", data[4:8])
        toc = json.loads(data[8 : 8 + length])
        self.format = toc["format"]
        self._data = memoryview(data)[8 + length :]
        self._sections = toc["sections"]
        self.meta: dict[str, Any] = {}

    def raw(self, name: str) -> bytes:
        offset, length = self._sections[name]
        return zlib.decompress(self._data[offset : offset + length])

    def json(self, name: str) -> Any:
        return json.loads(self.raw(name))

    def search(self) -> SearchData:
        postings = _unarrays(self.raw("postings"), self.meta["postings"])
        title, title_at, text, text_at, word_lemmas, word_lemmas_at, *forms = postings
        return SearchData(
            _unlines(self.raw("words")),
            title,
            title_at,
            text,
            text_at,
            word_lemmas,
            word_lemmas_at,
            _unlines(self.raw("lemmas")),
            {form: i for i, form in enumerate(_unlines(self.raw("forms")))},
            *forms,
        )


def _search_sections(search: SearchData) -> tuple[dict[str, bytes], list[int]]:
    postings, lengths = _arrays([getattr(search, name) for name in _POSTINGS])
    forms = sorted(search.forms, key=search.forms.__getitem__)
    sections = {
        "words": _lines(list(search.words)),
        "lemmas": _lines(list(search.lemmas)),
        "forms": _lines(forms),
        "postings": postings,
    }
    return sections, lengths


class _Programs(Mapping[str, dict[str, Any]]):
    """Every known program by id. A program from the blob is known first by the blob's
    arrays; `fact` makes a dict of the fields the filters read when it is first looked at,
    and reading the program decodes its chunk."""

    def __init__(self) -> None:
        self.facts: dict[str, dict[str, Any]] = {}
        self.blob: _Blob | None = None
        self._position: dict[str, int] = {}
        self._columns: list[Any] = []
        self._values: dict[str, list[str]] = {}
        self._taken: Any = ()

    def load(self, blob: _Blob, ids: list[str], columns: list[Any], taken: Any) -> None:
        self.blob = blob
        self._position = {pid: i for i, pid in enumerate(ids)}
        self._columns = columns
        self._values = blob.meta["values"]
        self._taken = taken

    def fact(self, program_id: str) -> dict[str, Any] | None:
        """The program, or at least the fields the filters read (None if unknown)."""
        known = self.facts.get(program_id)
        if known is not None:
            return known
        position = self._position.get(program_id)
        if position is None:
            return None
        row = [column[position] for column in self._columns]
        fact: dict[str, Any] = {"program_id": program_id, "seats_taken": self._taken[position]}
        for name, value in zip(FACTS, row, strict=True):
            fact[name] = self._values[name][value] if name in self._values else value
        fact[_CHUNK_KEY] = position // CHUNK
        self.facts[program_id] = fact
        return fact

    def __getitem__(self, program_id: str) -> dict[str, Any]:
        fact = self.fact(program_id)
        if fact is None:
            raise KeyError(program_id)
        if _CHUNK_KEY in fact and self.blob is not None:
            chunk = fact[_CHUNK_KEY]
            for record in self.blob.json(f"chunk{chunk}"):
                known = self.fact(record["program_id"])
                if known is not None and known.get(_CHUNK_KEY) == chunk:  # not changed since
                    record["seats_taken"] = known["seats_taken"]
                    self.facts[record["program_id"]] = record
            fact = self.facts[program_id]
        return fact

    def _ids(self) -> set[str]:
        return self._position.keys() | self.facts.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids())

    def __len__(self) -> int:
        return len(self._position) + sum(1 for p in self.facts if p not in self._position)

    def __contains__(self, program_id: object) -> bool:
        return program_id in self.facts or program_id in self._position


class CatalogSnapshot:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.programs = _Programs()
        self._order: list[str] = []  # published ids, sorted
        self._index = WordIndex()
        self._seats: dict[str, tuple[int, int]] = {}  # program id -> (version, taken)
        self._watermarks: dict[int, str] = {}
        self._checked_at: float | None = None
        self.loaded = False

    # ------------------------------------------------------------ freshness

    def refresh(self, force: bool = False) -> None:
        interval = get_settings().catalog_refresh_seconds
        now = time.monotonic()
        if not force and self._checked_at is not None and now - self._checked_at < interval:
            return
        with self._lock:
            if not self.loaded:
                self._load_blob()
            # Changes stamped just before this read may not have reached the index yet (or
            # carry a lagging writer's clock): the next read starts that far back again.
            trusted = f"{max(0, time.time_ns() // 1_000_000 - FEED_OVERLAP_MS):013d}"
            for shard in range(FEED_SHARDS):
                after = self._watermarks.get(shard)
                since = after
                for item in changed_items(shard, since):
                    if isinstance(item, SeatsItem):
                        self._apply_seats(item)
                    else:
                        self._apply(item.data())
                    if after is None or item.chgsk > after:
                        after = item.chgsk
                if after:
                    self._watermarks[shard] = min(after, trusted)
            self._checked_at = now
            self.loaded = True

    # ------------------------------------------------------------------ blob

    def _load_blob(self) -> None:
        data = read_blob()
        if data is None:
            LOG.warning("no catalog snapshot blob: reading the whole change feed")
            return
        blob = _Blob(data)
        if blob.format != BLOB_FORMAT:
            LOG.warning("catalog snapshot blob of another format: reading the whole feed")
            return
        blob.meta = meta = blob.json("meta")
        ids = _unlines(blob.raw("ids"))
        *columns, versions, taken = _unarrays(blob.raw("facts"), meta["facts"])
        self._seats = dict(zip(ids, zip(versions, taken, strict=True), strict=True))
        self._seats.update((pid, (v, t)) for pid, (v, t) in meta["other_seats"].items())
        self.programs.load(blob, ids, columns, taken)
        published = meta["values"]["status"].index("published")
        statuses = zip(ids, columns[FACTS.index("status")], strict=True)
        self._order = [pid for pid, status in statuses if status == published]
        self._index = WordIndex(ids, blob.search)
        self._watermarks = {int(shard): mark for shard, mark in meta["watermarks"].items()}

    def to_blob(self) -> bytes:
        with self._lock:
            ids = sorted(self.programs)
            records = [
                {k: v for k, v in self.programs[pid].items() if k != "seats_taken"} for pid in ids
            ]
            listed = set(ids)
            values = {name: sorted({r[name] for r in records}) for name in TEXT_FACTS}
            if "published" not in values["status"]:
                values["status"].append("published")
            codes = {name: {v: i for i, v in enumerate(values[name])} for name in TEXT_FACTS}
            columns = [
                [codes[name][r[name]] for r in records]
                if name in codes
                else [r[name] for r in records]
                for name in FACTS
            ]
            columns.append([self._seats.get(pid, (0, 0))[0] for pid in ids])
            columns.append([self._seats.get(pid, (0, 0))[1] for pid in ids])
            facts, fact_lengths = _arrays(columns)
            search, posting_lengths = _search_sections(build_search_data(records))
            meta: dict[str, Any] = {
                "watermarks": self._watermarks,
                "values": values,
                "other_seats": {p: s for p, s in self._seats.items() if p not in listed},
                "facts": fact_lengths,
                "postings": posting_lengths,
            }
            sections = {
                "meta": json.dumps(meta, ensure_ascii=False).encode(),
                "ids": _lines(ids),
                "facts": facts,
                **search,
            }
            for chunk, start in enumerate(range(0, len(records), CHUNK)):
                body = json.dumps(records[start : start + CHUNK], ensure_ascii=False)
                sections[f"chunk{chunk}"] = body.encode()
        return _pack(sections)

    def _apply(self, program: dict[str, Any]) -> None:
        program_id = program["program_id"]
        known = self.programs.fact(program_id)
        if known is not None and known["version"] >= program["version"]:
            return
        program["seats_taken"] = self._seats.get(program_id, (0, 0))[1]
        self.programs.facts[program_id] = program
        self._index.update(program_id, program)
        position = bisect.bisect_left(self._order, program_id)
        listed = position < len(self._order) and self._order[position] == program_id
        if program["status"] == "published" and not listed:
            self._order.insert(position, program_id)
        elif program["status"] != "published" and listed:
            del self._order[position]

    def _apply_seats(self, seats: SeatsItem) -> None:
        version, taken = int(seats.version), int(seats.taken)
        if self._seats.get(seats.program_id, (0, 0))[0] >= version:
            return
        self._seats[seats.program_id] = (version, taken)
        program = self.programs.fact(seats.program_id)
        if program is not None:
            program["seats_taken"] = taken

    # --------------------------------------------------------------- search

    def _ranked(self, query: list[str]) -> list[list[Any]]:
        """The published programs that match the query: [0, id] for those whose title
        matches every word, then [1, id] for those matched through their description."""
        title, anywhere = self._index.search(query)
        return sorted([0 if pid in title else 1, pid] for pid in anywhere if pid in self.programs)

    def page(
        self, flt: CatalogFilter, query: list[str], limit: int, after: Any
    ) -> tuple[list[dict[str, Any]], Any]:
        """Up to `limit` matching published programs after position `after`, and the next
        position: a program id, or with a query [rank, program id]."""
        with self._lock:
            keys: list[Any] = self._ranked(query) if query else self._order
            start = bisect.bisect_right(keys, after) if after is not None else 0
            out: list[str] = []
            last: Any = None
            for index in range(start, len(keys)):
                program_id = keys[index][1] if query else keys[index]
                if flt.matches(self.programs.fact(program_id) or {}):
                    if len(out) == limit:
                        return [self.programs[p] for p in out], last
                    out.append(program_id)
                    last = keys[index]
            return [self.programs[p] for p in out], None


_snapshot: CatalogSnapshot | None = None


def snapshot() -> CatalogSnapshot:
    """This container's snapshot, refreshed if its interval has passed."""
    global _snapshot
    if _snapshot is None:
        _snapshot = CatalogSnapshot()
    _snapshot.refresh()
    return _snapshot


def reset_snapshot() -> None:
    global _snapshot
    _snapshot = None
