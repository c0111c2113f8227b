"""The snapshot blob's sections at 20,000 programs, in-process, without moto or S3.

Run from the repository root:  .venv/bin/python bench/search_index.py

Builds a CatalogSnapshot of the catalog bench's 20,000 programs (bench/catalog.py's
generate_programs), writes its blob, and times (median of 7, 21 for warm pages): decoding
the search sections, one chunk, a cold load of the blob, a cold load plus a first page
without and with q, and warm pages with q. The builder has loaded the analyzer, so the
queries here lemmatize with it; bench/catalog.py measures a container without it.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]


def median_ms(run: Callable[[], object], rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    from bench.catalog import generate_programs
    from navigator.domain import search
    from navigator.domain.catalog import CatalogFilter
    from navigator.store import catalog_snapshot as module

    built = module.CatalogSnapshot()
    for program in generate_programs(20_000):
        built._apply({"version": 1, **program})
    began = time.perf_counter()
    blob = built.to_blob()
    print(f"to_blob {time.perf_counter() - began:.2f} s, {len(blob):,} bytes")
    module.read_blob = lambda: blob  # type: ignore[assignment]

    def cold() -> module.CatalogSnapshot:
        snapshot = module.CatalogSnapshot()
        snapshot._load_blob()
        return snapshot

    def page(snapshot: module.CatalogSnapshot, q: str) -> object:
        return snapshot.page(CatalogFilter(q=q or None), search.query_words(q), 20, None)

    sections = module._Blob(blob)
    sections.meta = sections.json("meta")
    warm = cold()
    page(warm, "робот")
    print(f"decode the search sections {median_ms(sections.search):.1f} ms")
    print(f"decode one chunk {median_ms(lambda: sections.json('chunk7')):.1f} ms")
    print(f"cold load of the blob {median_ms(cold):.1f} ms")
    print(f"cold load + first page, no q {median_ms(lambda: page(cold(), '')):.1f} ms")
    print(f"cold load + first page, q=танец {median_ms(lambda: page(cold(), 'танец')):.1f} ms")
    for q in ("робот", "шахматам", "для"):
        print(f"warm page, q={q} {median_ms(lambda q=q: page(warm, q), 21):.1f} ms")


if __name__ == "__main__":
    main()
