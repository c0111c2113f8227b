"""Each container's in-memory snapshot of the catalog, kept fresh from the change feed.

A container's first list request loads the snapshot's blob from S3 (built every minute by
the snapshot function) and reads the feed only for what changed since the blob's
watermarks; later requests read the feed at most once per refresh interval. Filtering,
search and paging cost no reads at all. See docs/decisions.md ("The public catalog").
"""

from __future__ import annotations

import bisect
import gzip
import json
import logging
import threading
import time
from collections import defaultdict
from typing import Any

from navigator.domain.catalog import CatalogFilter, QueryWord, searchable_words, word_matches
from navigator.settings import get_settings
from navigator.store.catalog import FEED_SHARDS, SeatsItem, changed_items
from navigator.store.snapshot_blob import read_blob

BLOB_FORMAT = 1
LOG = logging.getLogger(__name__)

# A writer's clock may lag the reader's; re-reading this much of the feed catches its changes.
FEED_OVERLAP_MS = 2_000


class CatalogSnapshot:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.programs: dict[str, dict[str, Any]] = {}
        self._order: list[str] = []  # published ids, sorted
        self._words: dict[str, set[str]] = defaultdict(set)  # word -> program ids
        self._vocabulary: list[str] = []
        self._vocabulary_dirty = False
        self._program_words: dict[str, set[str]] = {}
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
        blob = json.loads(gzip.decompress(data))
        if blob.get("format") != BLOB_FORMAT:
            return
        self._seats = {pid: (int(v), int(t)) for pid, (v, t) in blob["seats"].items()}
        for program in blob["programs"]:
            program["seats_taken"] = self._seats.get(program["program_id"], (0, 0))[1]
            self.programs[program["program_id"]] = program
            self._index_words(program["program_id"], searchable_words(program))
        self._order = sorted(p for p, v in self.programs.items() if v["status"] == "published")
        self._watermarks = {int(shard): mark for shard, mark in blob["watermarks"].items()}

    def to_blob(self) -> bytes:
        with self._lock:
            blob = {
                "format": BLOB_FORMAT,
                "watermarks": self._watermarks,
                "programs": [
                    {k: v for k, v in p.items() if k != "seats_taken"}
                    for p in self.programs.values()
                ],
                "seats": self._seats,
            }
        return gzip.compress(json.dumps(blob, ensure_ascii=False).encode(), compresslevel=6)

    def _apply(self, program: dict[str, Any]) -> None:
        program_id = program["program_id"]
        known = self.programs.get(program_id)
        if known is not None and known["version"] >= program["version"]:
            return
        program["seats_taken"] = self._seats.get(program_id, (0, 0))[1]
        self.programs[program_id] = program
        self._index_words(program_id, searchable_words(program))
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
        program = self.programs.get(seats.program_id)
        if program is not None:
            program["seats_taken"] = taken

    def _index_words(self, program_id: str, new_words: set[str]) -> None:
        old_words = self._program_words.get(program_id, set())
        for word in old_words - new_words:
            self._words[word].discard(program_id)
        for word in new_words - old_words:
            if not self._words[word]:
                self._vocabulary_dirty = True
            self._words[word].add(program_id)
        self._program_words[program_id] = new_words

    # --------------------------------------------------------------- search

    def _matching_ids(self, query: QueryWord) -> set[str]:
        if self._vocabulary_dirty:
            self._vocabulary = sorted(w for w, ids in self._words.items() if ids)
            self._vocabulary_dirty = False
        found: set[str] = set()
        # Words that start with the query word are contiguous in the sorted vocabulary.
        start = bisect.bisect_left(self._vocabulary, query.word)
        for word in self._vocabulary[start:]:
            if not word.startswith(query.word):
                break
            found |= self._words[word]
        # Forms of the same word share its stem; their common part is a prefix of both.
        start = bisect.bisect_left(self._vocabulary, query.stem)
        for word in self._vocabulary[start:]:
            if not word.startswith(query.stem):
                break
            if word_matches(query, word):
                found |= self._words[word]
        return found

    def page(
        self, flt: CatalogFilter, query: list[QueryWord], limit: int, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` matching published programs after id `after`, and the next position."""
        with self._lock:
            candidates: list[str] | None = None
            if query:
                sets = [self._matching_ids(q) for q in query]
                candidates = sorted(set.intersection(*sets)) if sets else []
            ids = candidates if candidates is not None else self._order
            start = bisect.bisect_right(ids, after) if after else 0
            out: list[dict[str, Any]] = []
            for index in range(start, len(ids)):
                program = self.programs[ids[index]]
                if flt.matches(program):
                    if len(out) == limit:
                        return out, out[-1]["program_id"]
                    out.append(program)
            return out, None


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
