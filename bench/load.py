"""The September opening on the local stack: locust load, then the invariant checker.

One command plays the opening of enrollment against the local stack for a bounded time:
parents browse and search the catalog, open programs, register a child and enroll it into
one of a few popular, certificate-funded programs with small capacity, so that the last
seats are raced for and `no_seats` refusals appear. Some parents double-click (the same
Idempotency-Key again, which must replay the first answer), some click twice at once
without a key, some withdraw afterwards (the seat is freed and raced for again). Anonymous
visitors only browse. Then it reports throughput, latency per endpoint, the error rate and
the business refusals, and checks that seats and certificates stayed consistent.

The popular programs (--programs) are those of infra.local.demo_catalog.POPULAR_PROGRAM_IDS
that a child of RACED_AGE may join: they all admit that age, so every two of them share at
least one age and a parent refused `no_seats` often has another to try.

Run from the repository root:

    .venv/bin/python bench/load.py --users 32 --spawn-rate 16 --duration 60s
    .venv/bin/python bench/load.py --users 16 --json bench/results/load/u16.json
    .venv/bin/python bench/load.py --render bench/results/load/u16.json \\
        bench/results/load/u64.json                                # side by side
    .venv/bin/python bench/load.py --host http://127.0.0.1:3000 \\
        --dynamodb-endpoint http://127.0.0.1:PORT                  # a running `navigator serve`

Without --host it starts the local stack in this process (LocalStack(port=0, demo=True),
embedded DynamoDB, --workers handler processes) with NAVIGATOR_TODAY=--today (default
2026-09-01, the opening day), and restores the environment afterwards. Locust runs
headless in a child process (`python -m locust -f bench/load.py`), so that gevent's
monkey-patching never touches the stack; this file is also that locustfile: the users are
defined only when locust imports it. Afterwards bench/load_check.py checks the invariants
(reconciliation of every certificate, seats against rosters, one certificate per child).

Errors are 5xx, connection errors, any status the flow did not expect, a retry with the
same Idempotency-Key that was not answered as the first request was, and an exception in a
user's step. The 409s `no_seats`, `already_enrolled`, `copay_required` and
`request_in_progress` are business outcomes and are counted separately. Exit status: 0
when there was no error and every invariant held, 1 otherwise.

Requests/s divide by the load phase as locust's own stats measure it: from its start
(spawning included) to the end of its last request (the stop's wind-down included).

With its own stack it also reports where the time went: CPU seconds of the stack's process
(gateway and embedded DynamoDB), of the handler workers, of locust and of the whole machine
(every process), and, by wrapping the embedded DynamoDB's one request lock, how many
DynamoDB requests ran and how long each operation held the lock.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import logging
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from navigator.domain.catalog import DIRECTIONS  # noqa: E402

# The demo catalog's popular programs (certificate-funded, Красноярск, capacity 10-12) that
# admit this age. In the demo catalog: prg-0007 (7-10), prg-0150 (10-16), prg-0233 (8-12) and
# prg-0271 (9-12), 42 seats; 10 is the only age all four admit. Left out: prg-0042 (5-7), which
# shares only age 7 with one of them, and prg-0108 (11-15), which shares none with prg-0007.
RACED_AGE = 10
EXPECTED_REFUSALS = ("no_seats", "already_enrolled", "copay_required", "request_in_progress")
# Words of the demo catalog, some in other forms of the word, one with е for ё.
SEARCH_WORDS = (
    "робототехника",
    "роботы",
    "шахматам",
    "python",
    "скалолазание",
    "хип-хоп",
    "химик",
    "танцы",
    "футбол",
    "вокал",
    "олимпиадная математика",
    "юный",
    "английский язык",
    "елочка",
    "лего",
    "кристаллы",
    "программирование игр",
)
MUNICIPALITIES = ("Красноярск", "Норильск", "Ачинск", "Железногорск", "Канск")
# Shares of a parent's journey (the rest of the flow always runs).
P_SAME_KEY_AGAIN = 0.2  # a double click: the same Idempotency-Key and body again
P_SECOND_CLICK = 0.1  # a second click at the same moment, without a key
P_SAME_KEY_AT_ONCE = 0.05  # ... or with the same key (`request_in_progress` or the replay)
P_WITHDRAW = 0.15  # withdraw after enrolling: the seat is freed and raced for again
P_WITHDRAW_AGAIN = 0.3  # ... and repeat the withdrawal (harmless)
MAX_PROGRAMS_TRIED = 3  # a parent refused for lack of seats tries up to this many programs


# --- Pure helpers (both processes) ---------------------------------------------------------------


def snils(number: int) -> str:
    """A valid SNILS for a nine-digit number."""
    from navigator.domain.snils import control_number

    digits = f"{number:09d}"
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]} {control_number(digits):02d}"


def first_month(program: dict[str, Any], today: str) -> str:
    return max(program["start_month"], today[:7])


def birth_date_for(age: int, month: str) -> str:
    """Born a month before the first of `month`, `age` years earlier: exactly `age` then."""
    year, mon = (int(x) for x in month.split("-"))
    year, mon = (year - age, mon - 1) if mon > 1 else (year - age - 1, 12)
    return f"{year:04d}-{mon:02d}-01"


def krasnoyarsk_today() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date().isoformat()


def default_programs() -> tuple[str, ...]:
    """POPULAR_PROGRAM_IDS that a child of RACED_AGE may join, in their order."""
    from infra.local.demo_catalog import POPULAR_PROGRAM_IDS, demo_programs

    ages = {p["program_id"]: (p["age_min"], p["age_max"]) for p in demo_programs()}
    return tuple(pid for pid in POPULAR_PROGRAM_IDS if ages[pid][0] <= RACED_AGE <= ages[pid][1])


# --- The locustfile (only when locust imports this file) -----------------------------------------


class Tally:
    """What the load generator saw, beyond locust's own stats; written to LOAD_OUT at the end."""

    def __init__(self) -> None:
        self.refusals: dict[str, Counter[str]] = defaultdict(Counter)
        self.unexpected: list[dict[str, Any]] = []
        self.unexpected_count = 0
        self.enrollments: dict[str, dict[str, Any]] = {}
        self.journeys: Counter[str] = Counter()
        self.times: dict[str, float] = {}
        self.stats: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.exceptions: list[dict[str, Any]] = []

    def record_enrollment(self, body: dict[str, Any]) -> None:
        known = self.enrollments.setdefault(body["enrollment_id"], {})
        known.update(
            child_id=body["child_id"], program_id=body["program_id"], status=body["status"]
        )

    def unexpected_answer(self, method: str, name: str, status: int, text: str) -> None:
        self.unexpected_count += 1
        if len(self.unexpected) < 20:
            self.unexpected.append(
                {"request": f"{method} {name}", "status": status, "body": text[:500]}
            )

    def dump(self, path: str) -> None:
        data = {
            "refusals": {name: dict(codes) for name, codes in self.refusals.items()},
            "unexpected": self.unexpected,
            "unexpected_count": self.unexpected_count,
            "enrollments": self.enrollments,
            "journeys": dict(self.journeys),
            "times": self.times,
            "stats": self.stats,
            "failures": self.failures,
            "exceptions": self.exceptions,
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1))


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code"))
    return None


class _Config:
    """The locust process's settings, from the environment that bench/load.py passes."""

    def __init__(self) -> None:
        programs = os.environ.get("LOAD_PROGRAMS")
        self.programs = programs.split(",") if programs else list(default_programs())
        self.today = os.environ.get("LOAD_TODAY") or krasnoyarsk_today()
        self.run_id = os.environ.get("LOAD_RUN_ID", uuid.uuid4().hex[:8])
        self.snils = itertools.count(int(os.environ.get("LOAD_SNILS_BASE", "200000000")))
        self.parents = itertools.count(1)
        self.think = float(os.environ.get("LOAD_THINK", "1.0"))


TALLY = Tally()


def send(client: Any, method: str, path: str, name: str, ok: int, **kw: Any) -> Any:
    """One request; `ok` or an expected 409 passes, anything else is a failure."""
    with client.request(method, path, name=name, catch_response=True, **kw) as resp:
        try:
            body = resp.json()
        except ValueError:
            body = None
        code = _error_code(body)
        if resp.status_code == ok:
            resp.success()
        elif resp.status_code == 409 and code in EXPECTED_REFUSALS:
            TALLY.refusals[name][code] += 1
            resp.success()
        else:
            TALLY.unexpected_answer(method, path, resp.status_code, resp.text or "")
            resp.failure(f"{resp.status_code} {code or resp.text[:80]}")
        return resp.status_code, body


def browse(client: Any) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": random.choice((10, 20, 50))}
    if random.random() < 0.5:
        params["municipality"] = random.choice(MUNICIPALITIES)
    if random.random() < 0.5:
        params["direction"] = random.choice(DIRECTIONS)
    if random.random() < 0.4:
        params["age"] = random.randint(5, 17)
    if random.random() < 0.3:
        params["has_seats"] = "true"
    status, body = send(client, "GET", "/programs", "GET /programs", 200, params=params)
    items = body["items"] if status == 200 else []
    if status == 200 and body["next_cursor"] and random.random() < 0.3:
        params["cursor"] = body["next_cursor"]
        send(client, "GET", "/programs", "GET /programs (next page)", 200, params=params)
    return items


def search(client: Any) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"q": random.choice(SEARCH_WORDS)}
    if random.random() < 0.3:
        params["age"] = random.randint(5, 17)
    status, body = send(client, "GET", "/programs", "GET /programs?q=", 200, params=params)
    return body["items"] if status == 200 else []


def open_program(client: Any, program_id: str) -> dict[str, Any] | None:
    path = f"/programs/{program_id}"
    status, body = send(client, "GET", path, "GET /programs/{id}", 200)
    return body if status == 200 else None


if "locust" in sys.modules and __name__ != "__main__":  # imported by locust as its locustfile
    import gevent
    from locust import HttpUser, SequentialTaskSet, between, events, task

    from infra.local.tokens import issue_token

    CONFIG = _Config()

    @events.spawning_complete.add_listener
    def _spawned(**_: Any) -> None:
        TALLY.times.setdefault("spawned", time.time())

    @events.test_stopping.add_listener
    def _stopping(**_: Any) -> None:
        TALLY.times["stopping"] = time.time()  # --run-time is over; users finish their step

    def _entry(entry: Any) -> dict[str, Any]:
        def pct(p: float) -> float | None:
            return entry.get_response_time_percentile(p) if entry.num_requests else None

        return {
            "name": "all" if entry.name == "Aggregated" else entry.name,
            "method": entry.method or "",
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": pct(0.5),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "max": entry.max_response_time if entry.num_requests else None,
        }

    @events.test_stop.add_listener
    def _write(environment: Any, **_: Any) -> None:
        """Locust's final stats, after every user stopped (its --csv files are written every
        second while it runs, so they can miss the last second)."""
        stats = environment.runner.stats
        # Locust's own interval: its stats start when the runner starts (spawning included);
        # its last request is the last one to end, after the stop's wind-down.
        TALLY.times["stats_start"] = stats.total.start_time
        TALLY.times["last_request"] = stats.total.last_request_timestamp or stats.total.start_time
        entries = sorted(stats.entries.values(), key=lambda e: (e.name, e.method))
        TALLY.stats = [_entry(e) for e in entries] + [_entry(stats.total)]
        TALLY.failures = [
            {"method": e.method, "name": e.name, "error": str(e.error), "count": e.occurrences}
            for e in stats.errors.values()
        ]
        # An exception in a user's step is no failed request: counted as an error too.
        TALLY.exceptions = [
            {"error": str(e["msg"])[:300], "count": e["count"]}
            for e in environment.runner.exceptions.values()
        ]
        if os.environ.get("LOAD_OUT"):
            TALLY.dump(os.environ["LOAD_OUT"])

    class Journey(SequentialTaskSet):
        """One parent: browse, search, open the popular programs, register, enroll, follow up."""

        def on_start(self) -> None:
            number = next(CONFIG.parents)
            token = issue_token("parent", f"load-{CONFIG.run_id}-{number}")
            self.auth = {"Authorization": f"Bearer {token}"}
            self.cards: dict[str, dict[str, Any]] = {}
            self.child_id: str | None = None
            self.enrollment_id: str | None = None
            TALLY.journeys["started"] += 1

        @task
        def look_around(self) -> None:
            items = browse(self.client)
            items += search(self.client)
            if items:
                open_program(self.client, random.choice(items)["program_id"])

        @task
        def open_popular(self) -> None:
            for program_id in random.sample(CONFIG.programs, len(CONFIG.programs)):
                card = open_program(self.client, program_id)
                if card:
                    self.cards[program_id] = card

        @task
        def register(self) -> None:
            if not self.cards:
                self.interrupt(reschedule=False)
            self.target = random.choice(list(self.cards.values()))
            low, high = max(self.target["age_min"], 5), min(self.target["age_max"], 17)
            self.age = random.randint(low, high)
            body = {
                "full_name": "Нагрузочный Ребёнок",
                "birth_date": birth_date_for(self.age, first_month(self.target, CONFIG.today)),
                "municipality": self.target["municipality"],
                "snils": snils(next(CONFIG.snils)),
            }
            status, answer = send(
                self.client,
                "POST",
                "/children",
                "POST /children",
                201,
                json=body,
                headers=self.auth,
            )
            if status != 201:
                self.interrupt(reschedule=False)
            self.child_id = answer["child_id"]
            TALLY.journeys["children"] += 1

        @task
        def enroll(self) -> None:
            others = [
                c
                for c in self.cards.values()
                if c is not self.target and c["age_min"] <= self.age <= c["age_max"]
            ]
            tries = [self.target, *random.sample(others, len(others))][:MAX_PROGRAMS_TRIED]
            for card in tries:
                status, body = self.attempt(card["program_id"], accept=False)
                if status == 409 and _error_code(body) == "copay_required":
                    status, body = self.attempt(card["program_id"], accept=True)
                if status == 201:
                    self.enrollment_id = body["enrollment_id"]
                    TALLY.journeys["enrolled"] += 1
                    return
                if _error_code(body) != "no_seats":
                    break
            TALLY.journeys["not_enrolled"] += 1

        def attempt(self, program_id: str, accept: bool) -> tuple[int, Any]:
            """One click with a fresh key; perhaps a simultaneous second click, a retry."""
            body = {"child_id": self.child_id, "program_id": program_id, "accept_copay": accept}
            keyed = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
            second, roll = None, random.random()
            if roll < P_SECOND_CLICK:
                second = gevent.spawn(self.post_enrollment, body, self.auth, "(second click)")
            elif roll < P_SECOND_CLICK + P_SAME_KEY_AT_ONCE:
                second = gevent.spawn(self.post_enrollment, body, keyed, "(same key, at once)")
            status, answer = self.post_enrollment(body, keyed, "")
            if random.random() < P_SAME_KEY_AGAIN:
                again = self.post_enrollment(body, keyed, "(same key again)")
                self.check_replay((status, answer), again)
            if second is None:
                return status, answer
            other = second.get()
            if roll >= P_SECOND_CLICK:
                self.check_replay((status, answer), other)
            if status == 201 or (other[0] != 201 and _error_code(answer) != "request_in_progress"):
                return status, answer
            return other  # it won the seat, or it was the one that ran

        def post_enrollment(self, body: dict[str, Any], headers: Any, how: str) -> Any:
            name = f"POST /enrollments {how}".strip()
            status, answer = send(
                self.client, "POST", "/enrollments", name, 201, json=body, headers=headers
            )
            if status == 201:
                TALLY.record_enrollment(answer)
            return status, answer

        def check_replay(self, first: tuple[int, Any], again: tuple[int, Any]) -> None:
            if first[0] not in (201, 409) or again[0] not in (201, 409):
                return  # an error, counted as such
            if "request_in_progress" in (_error_code(first[1]), _error_code(again[1])):
                return  # the two were in flight together: nothing to replay yet
            same = first[0] == again[0] and (
                first[1].get("enrollment_id") == again[1].get("enrollment_id")
                if first[0] == 201
                else _error_code(first[1]) == _error_code(again[1])
            )
            if not same:
                TALLY.journeys["replay_mismatch"] += 1
                TALLY.unexpected_answer(
                    "POST", "/enrollments (replay differs)", again[0], json.dumps(again[1])
                )

        @task
        def follow_up(self) -> None:
            params = {"child_id": self.child_id}
            send(
                self.client, "GET", "/enrollments", "GET /enrollments", 200,
                params=params, headers=self.auth,
            )  # fmt: skip
            if self.enrollment_id is None:
                return
            send(self.client, "GET", "/certificates", "GET /certificates", 200, headers=self.auth)
            if random.random() < P_WITHDRAW:
                self.withdraw()

        def withdraw(self) -> None:
            path = f"/enrollments/{self.enrollment_id}/withdraw"
            name = "POST /enrollments/{id}/withdraw"
            for _ in range(2 if random.random() < P_WITHDRAW_AGAIN else 1):
                status, body = send(self.client, "POST", path, name, 200, headers=self.auth)
                if status == 200:
                    TALLY.record_enrollment(body)
            TALLY.journeys["withdrawn"] += 1

        @task
        def done(self) -> None:
            TALLY.journeys["finished"] += 1
            self.interrupt(reschedule=False)

    class Parent(HttpUser):
        weight = 3
        wait_time = between(0.1, CONFIG.think)
        tasks = [Journey]

    class Visitor(HttpUser):
        """Anonymous: the public catalog is read far more than anything is written."""

        weight = 1
        wait_time = between(0.1, CONFIG.think)

        @task(3)
        def list_programs(self) -> None:
            browse(self.client)

        @task(2)
        def search_and_open(self) -> None:
            items = search(self.client)
            if items:
                open_program(self.client, random.choice(items)["program_id"])


# --- The run (the parent process: the stack, locust as a child, the checks) ----------------------


class TimedLock:
    """Wraps the embedded DynamoDB's one request lock: how long it was held, by operation.

    Every request to the embedded DynamoDB (and S3) runs under that lock, in this process;
    the time held includes waiting for the GIL while the gateway's threads hold it.
    """

    def __init__(self, lock: Any) -> None:
        import threading

        self._lock = lock
        self._entered = 0.0
        self.operation = threading.local()
        self.waited_s = 0.0
        self.requests: Counter[str] = Counter()
        self.held_s: Counter[str] = Counter()

    def __enter__(self) -> None:
        asked = time.perf_counter()
        self._lock.acquire()
        self._entered = time.perf_counter()
        self.waited_s += self._entered - asked

    def __exit__(self, *exc: object) -> None:
        operation = getattr(self.operation, "name", "other")
        self.requests[operation] += 1
        self.held_s[operation] += time.perf_counter() - self._entered
        self._lock.release()

    def snapshot(self) -> dict[str, Any]:
        return {
            "waited_s": self.waited_s,
            "requests": dict(self.requests),
            "held_s": dict(self.held_s),
        }

    def since(self, before: dict[str, Any]) -> dict[str, Any]:
        now = self.snapshot()
        by_op = {
            key: {op: now[key][op] - before[key].get(op, 0) for op in now[key]}
            for key in ("requests", "held_s")
        }
        return {
            "waited_s": now["waited_s"] - before["waited_s"],
            "requests_total": sum(by_op["requests"].values()),
            "held_s_total": sum(by_op["held_s"].values()),
            **by_op,
        }


MOTO_LOCK: TimedLock | None = None


@contextmanager
def timed_moto_lock() -> Iterator[None]:
    """TimedLock in place of the embedded DynamoDB's lock, told each request's operation."""
    global MOTO_LOCK
    import infra.local.dynamodb as embedded

    original_lock, original_call = embedded._REQUEST_LOCK, embedded._SerializedApp.__call__
    timed = MOTO_LOCK = TimedLock(original_lock)

    def call(app: Any, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        timed.operation.name = target or f"S3 {environ.get('REQUEST_METHOD')}"
        return original_call(app, environ, start_response)

    embedded._REQUEST_LOCK = timed  # type: ignore[assignment]
    embedded._SerializedApp.__call__ = call  # type: ignore[method-assign]
    try:
        yield
    finally:
        embedded._REQUEST_LOCK = original_lock
        embedded._SerializedApp.__call__ = original_call  # type: ignore[method-assign]
        MOTO_LOCK = None


@contextmanager
def stdout_to(path: Path) -> Iterator[None]:
    """File descriptor 1 into `path`, for this process and the workers it spawns meanwhile.

    Whatever the stack prints stays out of the report, and is counted (`stack_stdout`). The
    first runs of this bench found one EMF metric line per refused enrollment there (Powertools'
    single_metric ignored POWERTOOLS_METRICS_DISABLED); fixed in 7407c99 "Refusal metrics
    honour POWERTOOLS_METRICS_DISABLED; ...", so `emf_lines` is expected to be 0.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    with path.open("wb") as log:
        os.dup2(log.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@contextmanager
def local_stack(
    workers: int, today: str, log: Path, catalog_refresh: float | None = None
) -> Iterator[tuple[str, str]]:
    """The local stack in this process, with the demo data; the environment restored after."""
    from infra.local.stack import LocalStack
    from navigator.settings import reset_settings
    from navigator.store.base import reset_connections

    saved = dict(os.environ)
    os.environ.pop("DYNAMODB_ENDPOINT", None)
    os.environ["NAVIGATOR_TODAY"] = today
    if catalog_refresh is not None:
        os.environ["CATALOG_REFRESH_SECONDS"] = str(catalog_refresh)
    stack = LocalStack(port=0, workers=workers, demo=True)
    try:
        with stdout_to(log), timed_moto_lock():
            stack.start()
            yield stack.url, stack.dynamodb_endpoint
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        reset_connections()


class Warnings(logging.Handler):
    """Warnings and errors logged in this process (gateway, snapshot thread, checks): counted."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        text = f"{record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__})"
        if len(self.samples) < 5:
            self.samples.append(text[:300])
        sys.stderr.write(text + "\n")


def stdout_lines(log: Path) -> dict[str, Any]:
    """What the stack printed on its stdout: lines, EMF metric lines, the first few."""
    lines = [line for line in log.read_bytes().splitlines() if line.strip()]
    return {
        "lines": len(lines),
        "emf_lines": sum(line.startswith(b'{"_aws"') for line in lines),
        "first": [line[:200].decode(errors="replace") for line in lines[:3]],
    }


def _cpu_seconds(processes: list[Any]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except Exception:  # noqa: BLE001 - a worker that was replaced
            continue
        total += times.user + times.system
    return total


def _busy_cpu_seconds() -> float:
    """CPU seconds that the whole machine spent busy so far (every process, every core)."""
    import psutil

    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def run_locust(args: argparse.Namespace, url: str, work: Path) -> dict[str, Any]:
    """Locust headless in a child process; its final stats, its tally, the CPU used."""
    import resource

    import psutil

    out = work / "tally.json"
    env = {
        **os.environ,
        "LOAD_OUT": str(out),
        "LOAD_PROGRAMS": ",".join(args.programs),
        "LOAD_TODAY": args.today,
        "LOAD_RUN_ID": uuid.uuid4().hex[:8],
        "LOAD_SNILS_BASE": str(random.randrange(100_000_000, 800_000_000)),
        "LOAD_THINK": str(args.think),
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(Path(__file__).resolve()), "--headless",
        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", args.duration, "--stop-timeout", str(args.stop_timeout),
        "--host", url, "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    here, workers = psutil.Process(), psutil.Process().children(recursive=True)
    cpu_before = (_cpu_seconds([here]), _cpu_seconds(workers))
    children_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    lock_before = MOTO_LOCK.snapshot() if MOTO_LOCK else None
    machine_before, load_before = _busy_cpu_seconds(), os.getloadavg()
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_after = (_cpu_seconds([here]), _cpu_seconds(workers))
    machine, load_after = _busy_cpu_seconds() - machine_before, os.getloadavg()
    lock = MOTO_LOCK.since(lock_before) if MOTO_LOCK and lock_before else None
    if not out.exists():
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"locust did not finish (exit {done.returncode})")
    tally = json.loads(out.read_text())
    times = tally["times"]
    start = times["stats_start"]
    return {
        "stats": tally.pop("stats"),
        "failures": tally.pop("failures"),
        "tally": tally,
        "locust_exit": done.returncode,
        "locust_wall_s": wall,
        # The load phase by locust's own stats: from its start (spawning included) to the end
        # of its last request (the stop's wind-down included); requests/s divides by this.
        "load_s": times["last_request"] - start,
        "spawn_s": times["spawned"] - start if "spawned" in times else None,
        "run_s": times["stopping"] - start if "stopping" in times else None,
        "cpu_s": {
            "stack": cpu_after[0] - cpu_before[0] + cpu_after[1] - cpu_before[1],
            "gateway_and_dynamodb": cpu_after[0] - cpu_before[0],
            "workers": cpu_after[1] - cpu_before[1],
            "locust": (after.ru_utime + after.ru_stime)
            - (children_cpu.ru_utime + children_cpu.ru_stime),
            "machine": machine,
        },
        "load_avg_before": load_before,
        "load_avg": load_after,
        "moto_lock": lock,
    }


def _git(*args: str) -> str:
    """Read-only git (no index refresh, so no lock taken)."""
    done = subprocess.run(
        ["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip()


def source() -> dict[str, Any]:
    """The commit measured, and the tracked files that differed from it (if any)."""
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "subject": _git("log", "-1", "--format=%s")[:120],
        "changed": _git("status", "--porcelain", "--untracked-files=no").splitlines(),
    }


def portable(value: Any) -> Any:
    """No paths of this machine in the recorded JSON: the repository and temp dir shortened."""
    if isinstance(value, dict):
        return {key: portable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [portable(item) for item in value]
    if isinstance(value, str):
        value = value.replace(f"{ROOT}/", "").replace(str(ROOT), ".")
        return value.replace(tempfile.gettempdir(), "$TMPDIR")
    return value


def run(args: argparse.Namespace) -> dict[str, Any]:
    from importlib.metadata import version

    from bench.load_check import check

    result: dict[str, Any] = {
        "label": args.label,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "duration": args.duration,
        "think_s": args.think,
        "workers": args.workers if not args.host else None,
        "catalog_refresh_s": args.catalog_refresh,
        "programs": list(args.programs),
        "today": args.today,
        "command": shlex.join(["bench/load.py", *sys.argv[1:]]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "machine": f"Python {platform.python_version()}; locust {version('locust')}",
        "source": source(),
        "target": args.host or "in-process local stack",
        "load_avg_at_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        if args.host:
            from infra.local.stack import use_endpoint

            use_endpoint(args.dynamodb_endpoint)
            result.update(run_locust(args, args.host, Path(tmp)))
            result["invariants"] = check(args.host, args.programs, result["tally"], fresh=False)
        else:
            started = time.monotonic()
            log = Path(tmp) / "stack-stdout.log"
            stack = local_stack(args.workers, args.today, log, args.catalog_refresh)
            warnings = Warnings()
            logging.getLogger().addHandler(warnings)
            try:
                with stack as (url, _endpoint):
                    result["stack_start_s"] = round(time.monotonic() - started, 1)
                    result.update(run_locust(args, url, Path(tmp)))
                    checked = time.monotonic()
                    result["invariants"] = check(url, args.programs, result["tally"], fresh=True)
                    result["check_s"] = round(time.monotonic() - checked, 1)
            finally:
                logging.getLogger().removeHandler(warnings)
            result["stack_stdout"] = stdout_lines(log)
            result["stack_warnings"] = {"count": warnings.count, "first": warnings.samples}
    return portable(result)


def main() -> int:
    from bench.load_check import passed, render

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=32, help="simulated users at once")
    parser.add_argument("--spawn-rate", type=float, default=16, help="users started per second")
    parser.add_argument("--duration", default="60s", help="locust --run-time, e.g. 60s, 2m")
    parser.add_argument("--think", type=float, default=1.0, help="max pause between steps, s")
    parser.add_argument("--stop-timeout", type=int, default=30, help="s to finish a step")
    parser.add_argument("--workers", type=int, default=4, help="handler processes (own stack)")
    parser.add_argument(
        "--programs",
        type=lambda s: s.split(","),
        help=f"comma-separated (default: the popular programs open to age {RACED_AGE})",
    )
    parser.add_argument(
        "--catalog-refresh",
        type=float,
        help="CATALOG_REFRESH_SECONDS of the own stack (default: the stack's, 1 s)",
    )
    parser.add_argument("--today", help="NAVIGATOR_TODAY of the stack (default 2026-09-01)")
    parser.add_argument("--host", help="the API of a running `navigator serve`")
    parser.add_argument("--dynamodb-endpoint", help="its DynamoDB endpoint (with --host)")
    parser.add_argument("--label", help="the run's name in the report (default: its users)")
    parser.add_argument("--json", help="write the raw figures here")
    parser.add_argument("--render", nargs="+", help="print the report from --json files")
    args = parser.parse_args()
    if args.render:
        results = [json.loads(Path(p).read_text()) for p in args.render]
        print(render(results))
        return 0 if all(passed(r) for r in results) else 1
    if args.host and not args.dynamodb_endpoint:
        parser.error("--host needs --dynamodb-endpoint (the address `navigator serve` printed)")
    args.programs = args.programs or list(default_programs())
    if not args.today:
        args.today = os.environ.get("NAVIGATOR_TODAY") if args.host else "2026-09-01"
        args.today = args.today or krasnoyarsk_today()
    result = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(render([result]))
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
