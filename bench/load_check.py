"""bench/load.py's invariant checker and report: what must hold after the September opening.

Checks, over everything in the store and over HTTP:
- reconciliation (navigator.service.reconciliation.reconcile, the same as `navigator
  reconcile`): every certificate's terms add up to its nominal and stay >= 0, its ledger is
  gapless and replays to its state, its pending months add up to its reserve; and
  GET /reconciliation agrees;
- seats (tests/invariants.py's seat_problems): for every program, seats taken = the active
  counter = active enrollments, and never above capacity;
- for each popular program over HTTP: `seats_taken` of GET /programs/{id} = the active
  enrollments on its roster (GET /programs/{id}/enrollments, an operator, every page) <=
  capacity, `seats_left` = capacity - taken, no child twice active; and the roster agrees with
  what the load generator was answered (every 201 it saw is there, withdrawn ones withdrawn;
  on a fresh stack, nothing else is active);
- certificates: as many as children with a certificate-funded enrollment, one per child and
  period, and each such enrollment points at its own child's certificate.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

REFUSALS = ("no_seats", "already_enrolled", "copay_required", "request_in_progress")


# --- HTTP ---------------------------------------------------------------------------------------


def http_get(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def roster(url: str, program_id: str, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = "limit=100" + (f"&cursor={urllib.request.quote(cursor)}" if cursor else "")
        status, body = http_get(f"{url}/programs/{program_id}/enrollments?{query}", token)
        if status != 200:
            raise RuntimeError(f"roster of {program_id}: {status} {body}")
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


# --- The checks ---------------------------------------------------------------------------------


def program_check(
    url: str, program_id: str, token: str, seen: dict[str, dict[str, Any]], fresh: bool
) -> dict[str, Any]:
    status, card = http_get(f"{url}/programs/{program_id}", token)
    if status != 200:
        raise RuntimeError(f"GET /programs/{program_id}: {status} {card}")
    items = roster(url, program_id, token)
    active = {e["enrollment_id"] for e in items if e["status"] == "active"}
    withdrawn = {e["enrollment_id"] for e in items if e["status"] == "withdrawn"}
    mine = {eid: e for eid, e in seen.items() if e["program_id"] == program_id}
    seen_active = {eid for eid, e in mine.items() if e["status"] == "active"}
    seen_withdrawn = {eid for eid, e in mine.items() if e["status"] == "withdrawn"}
    children = Counter(e["child_id"] for e in items if e["status"] == "active")
    taken, capacity = card["seats_taken"], card["capacity"]
    problems = []
    if taken != len(active):
        problems.append(f"seats_taken {taken} but {len(active)} active on the roster")
    if taken > capacity:
        problems.append(f"seats_taken {taken} above capacity {capacity}")
    if card["seats_left"] != capacity - taken:
        problems.append(f"seats_left {card['seats_left']} is not {capacity} - {taken}")
    if any(n > 1 for n in children.values()):
        problems.append(f"a child twice active: {[c for c, n in children.items() if n > 1]}")
    if not seen_active <= active or not seen_withdrawn <= withdrawn:
        problems.append(
            f"answered but not so on the roster: active {sorted(seen_active - active)}, "
            f"withdrawn {sorted(seen_withdrawn - withdrawn)}"
        )
    if fresh and active != seen_active:
        problems.append(f"active on the roster, never answered 201: {sorted(active - seen_active)}")
    return {
        "program_id": program_id,
        "capacity": capacity,
        "seats_taken": taken,
        "roster_active": len(active),
        "roster_withdrawn": len(withdrawn),
        "answered_201": len(mine),
        "problems": problems,
    }


def certificate_check() -> dict[str, Any]:
    from navigator.store import accounts, catalog

    certs = accounts.scan_certificates()
    heads = accounts.scan_enrollments()
    funding = {pid: catalog.get_program(pid).funding for pid in {h.program_id for h in heads}}
    funded = [h for h in heads if funding[h.program_id] == "certificate"]
    by_id = {c.certificate_id: c for c in certs}
    per_child_period = Counter((c.child_id, c.period_id) for c in certs)
    problems = []
    children = {h.child_id for h in funded}
    if len(certs) != len(children):
        problems.append(
            f"{len(certs)} certificates for {len(children)} children with a funded enrollment"
        )
    twice = [key for key, n in per_child_period.items() if n > 1]
    if twice:
        problems.append(f"more than one certificate for a child and period: {twice}")
    for head in funded:
        cert = by_id.get(head.certificate_id or "")
        if cert is None or cert.child_id != head.child_id:
            problems.append(f"{head.enrollment_id}: certificate {head.certificate_id} not its own")
    for head in heads:
        if funding[head.program_id] == "free" and head.certificate_id:
            problems.append(f"{head.enrollment_id}: a free program with a certificate")
    statuses = Counter(h.status for h in heads)
    return {
        "certificates": len(certs),
        "children_with_funded_enrollment": len(children),
        "enrollments": dict(statuses),
        "problems": problems[:20],
    }


def check(url: str, programs: list[str], tally: dict[str, Any], fresh: bool) -> dict[str, Any]:
    """Every invariant after the load; `fresh`: the stack held nothing before the run."""
    from infra.local.tokens import issue_token
    from navigator.service.reconciliation import reconcile
    from tests.support.invariants import seat_problems

    token = issue_token("operator", "load-checker")
    report = reconcile()
    status, over_http = http_get(f"{url}/reconciliation", token)
    over_http = over_http if isinstance(over_http, dict) else {}
    seen = tally["enrollments"]
    result = {
        "reconciliation": {
            "certificates_checked": report["certificates_checked"],
            "mismatches": report["mismatches"][:20],
            "mismatch_count": len(report["mismatches"]),
            "http_status": status,
            "http_certificates_checked": over_http.get("certificates_checked"),
            "http_mismatch_count": len(over_http.get("mismatches", [])),
        },
        "seat_problems": seat_problems(),
        "programs": [program_check(url, pid, token, seen, fresh) for pid in programs],
        "certificates": certificate_check(),
    }
    if fresh:
        children = {e["child_id"] for e in seen.values()}
        result["certificates"]["children_answered_201"] = len(children)
        if len(children) != result["certificates"]["certificates"]:
            result["certificates"]["problems"].append(
                f"{len(children)} children were answered 201, "
                f"{result['certificates']['certificates']} certificates exist"
            )
    result["ok"] = not problems(result)
    return result


def problems(invariants: dict[str, Any]) -> list[str]:
    rec = invariants["reconciliation"]
    out = [f"{m['certificate_id']}: {m['problem']}" for m in rec["mismatches"]]
    if rec["http_status"] != 200 or rec["http_mismatch_count"]:
        out.append(f"GET /reconciliation: {rec['http_status']}, {rec['http_mismatch_count']}")
    out += invariants["seat_problems"]
    out += [f"{p['program_id']}: {x}" for p in invariants["programs"] for x in p["problems"]]
    out += invariants["certificates"]["problems"]
    return out


# --- Figures ------------------------------------------------------------------------------------


def aggregate(result: dict[str, Any]) -> dict[str, Any]:
    return next(row for row in result["stats"] if row["name"] == "all")


def errors(result: dict[str, Any]) -> int:
    """Failed requests, same-key retries answered otherwise, exceptions in users' steps."""
    tally = result["tally"]
    return (
        int(aggregate(result)["failures"])
        + int(tally["journeys"].get("replay_mismatch", 0))
        + sum(int(e["count"]) for e in tally["exceptions"])
    )


def passed(result: dict[str, Any]) -> bool:
    return errors(result) == 0 and bool(result["invariants"]["ok"])


def refusal_totals(result: dict[str, Any]) -> Counter[str]:
    total: Counter[str] = Counter()
    for codes in result["tally"]["refusals"].values():
        total.update(codes)
    return total


def _avg(loads: list[float]) -> str:
    return "/".join(f"{x:.2f}" for x in loads)


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _label(result: dict[str, Any]) -> str:
    return str(result.get("label") or f"{result['users']} users")


def label_runs(results: list[dict[str, Any]]) -> None:
    """Names for the columns: --label, or the users and what differs from the defaults (and the
    time, if two are still alike)."""
    for r in results:
        if r.get("label"):
            continue
        extras = []
        if r["workers"] not in (None, 4):
            extras.append(f"{r['workers']} workers")
        if r.get("catalog_refresh_s"):
            extras.append(f"catalog refresh {r['catalog_refresh_s']:g} s")
        if r["workers"] is None:
            extras.append("external stack")
        r["label"] = ", ".join([f"{r['users']} users", *extras])
    counts = Counter(r["label"] for r in results)
    for r in results:
        if counts[r["label"]] > 1:
            r["label"] += f" ({r['date'][11:16]})"


def summary_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| run | requests | requests/s (load phase) | errors | error rate "
        "| enrollments answered 201 "
        "| no_seats | already_enrolled | copay_required | request_in_progress "
        "| parents (children registered) | invariants |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        agg, refusals, journeys = aggregate(r), refusal_totals(r), r["tally"]["journeys"]
        row = [
            f"{_label(r)}; spawn {r['spawn_rate']:g}/s, {r['duration']}",
            f"{agg['requests']:,}",
            f"{agg['requests'] / r['load_s']:.1f}",
            f"{errors(r)}",
            f"{errors(r) / max(agg['requests'], 1):.2%}",
            f"{len(r['tally']['enrollments'])}",
            *(f"{refusals.get(code, 0)}" for code in REFUSALS),
            f"{journeys.get('started', 0)} ({journeys.get('children', 0)})",
            "PASS" if r["invariants"]["ok"] else "FAIL",
        ]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def resources_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| run | load phase s | locust process wall s | CPU s: gateway + DynamoDB process "
        "| handler workers | locust | ours (of nproc x wall) "
        "| whole machine busy (of nproc x wall) "
        "| DynamoDB requests (per API request) | DynamoDB lock held (of wall) "
        "| waited for it, on average |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        cpu, wall, lock = r["cpu_s"], r["locust_wall_s"], r.get("moto_lock")
        cores = r["nproc"]
        if r["workers"] is None:  # another process's stack: only locust's own CPU is known
            total = cpu["locust"]
            stack = ["(elsewhere)", "(elsewhere)"]
            label = f"{_label(r)}: {r['target']}"
        else:
            total = cpu["gateway_and_dynamodb"] + cpu["workers"] + cpu["locust"]
            stack = [f"{cpu['gateway_and_dynamodb']:.1f}", f"{cpu['workers']:.1f}"]
            label = _label(r) if "workers" in _label(r) else f"{_label(r)}, {r['workers']} workers"
        row = [
            label,
            f"{r['load_s']:.1f}",
            f"{wall:.1f}",
            *stack,
            f"{cpu['locust']:.1f}",
            f"{total:.1f} ({total / (cores * wall):.0%})",
            f"{cpu['machine']:.1f} ({cpu['machine'] / (cores * wall):.0%})",
        ]
        if lock:
            count = lock["requests_total"]
            row += [
                f"{count:,.0f} ({count / max(aggregate(r)['requests'], 1):.1f})",
                f"{lock['held_s_total']:.1f} s ({lock['held_s_total'] / wall:.0%})",
                f"{1000 * lock['waited_s'] / max(count, 1):.0f} ms",
            ]
        else:
            row += ["", "", ""]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def dynamodb_table(results: list[dict[str, Any]]) -> list[str]:
    runs = [r for r in results if r.get("moto_lock")]
    if not runs:
        return ["(not measured: the stack ran elsewhere)"]
    head = "| operation | " + " | ".join(f"{_label(r)}: requests | lock held s" for r in runs)
    lines = [head + " |", "|---|" + "---:|---:|" * len(runs)]
    operations = sorted(
        {op for r in runs for op, n in r["moto_lock"]["requests"].items() if n},
        key=lambda op: -max(r["moto_lock"]["held_s"].get(op, 0) for r in runs),
    )
    for op in operations:
        cells = []
        for r in runs:
            lock = r["moto_lock"]
            cells += [f"{lock['requests'].get(op, 0):,}", f"{lock['held_s'].get(op, 0):.1f}"]
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    return lines


def latency_table(results: list[dict[str, Any]]) -> list[str]:
    head = "| endpoint | " + " | ".join(
        f"{_label(r)}: requests | p50 ms | p95 ms | p99 ms" for r in results
    )
    lines = [head + " |", "|---|" + "---:|---:|---:|---:|" * len(results)]
    names: list[tuple[str, str]] = []
    for r in results:
        for row in r["stats"]:
            if (row["method"], row["name"]) not in names and row["name"] != "all":
                names.append((row["method"], row["name"]))
    names.append(("", "all"))
    for method, name in names:
        cells = []
        for r in results:
            row = next((x for x in r["stats"] if x["name"] == name and x["method"] == method), None)
            if row is None and name != "all":
                cells += ["", "", "", ""]
                continue
            row = row or aggregate(r)
            cells += [f"{row['requests']:,}", _ms(row["p50"]), _ms(row["p95"]), _ms(row["p99"])]
        label = name if name.startswith(method) or not method else f"{method} {name}"
        lines.append(f"| {label or 'all'} | " + " | ".join(cells) + " |")
    return lines


def refusals_table(results: list[dict[str, Any]]) -> list[str]:
    lines = ["| run | request | refusals (409, expected) |", "|---|---|---|"]
    for r in results:
        for name, codes in sorted(r["tally"]["refusals"].items()):
            text = ", ".join(f"{code} {n}" for code, n in sorted(codes.items()))
            lines.append(f"| {_label(r)} | {name} | {text} |")
    return lines


def seats_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| run | program | capacity | seats_taken | active on roster | withdrawn on roster "
        "| enrollments answered 201 | problems |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for p in r["invariants"]["programs"]:
            lines.append(
                f"| {_label(r)} | {p['program_id']} | {p['capacity']} | {p['seats_taken']} "
                f"| {p['roster_active']} | {p['roster_withdrawn']} | {p['answered_201']} "
                f"| {'; '.join(p['problems']) or 'none'} |"
            )
    return lines


def invariants_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| run | certificates reconciled | mismatches (in-process / GET /reconciliation) "
        "| seat problems (all programs) | certificates | children with a funded enrollment "
        "| enrollments by status | result |",
        "|---|---:|---|---:|---:|---:|---|---|",
    ]
    for r in results:
        inv = r["invariants"]
        rec, certs = inv["reconciliation"], inv["certificates"]
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(certs["enrollments"].items()))
        lines.append(
            f"| {_label(r)} | {rec['certificates_checked']} | {rec['mismatch_count']} / "
            f"{rec['http_mismatch_count']} | {len(inv['seat_problems'])} "
            f"| {certs['certificates']} | {certs['children_with_funded_enrollment']} "
            f"| {statuses} | {'PASS' if inv['ok'] else 'FAIL'} |"
        )
    return lines


def details(results: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in results:
        journeys = ", ".join(f"{k} {v}" for k, v in sorted(r["tally"]["journeys"].items()))
        src = r["source"]
        changed = ", ".join(x.strip() for x in src["changed"]) or "none"
        out = r.get("stack_stdout")
        lines.append(
            f"- {_label(r)}: `{r['command']}`; {r['date']}; commit {src['commit']} "
            f"({src['subject'][:60]}...), tracked files changed: {changed}; "
            f"nproc {r['nproc']}; {r['machine']}; "
            f"target {r['target']}, workers {r['workers'] or '(that stack)'}, "
            f"catalog refresh {r.get('catalog_refresh_s') or 'default (1)'} s, "
            f"NAVIGATOR_TODAY {r['today']}; "
            f"programs {', '.join(r['programs'])}; think up to {r['think_s']:g} s; "
            f"load phase {r['load_s']:.1f} s (spawned after {_s(r['spawn_s'])} s, run time "
            f"over at {_s(r['run_s'])} s, last request ended at {r['load_s']:.1f} s); "
            f"locust process {r['locust_wall_s']:.1f} s wall, exit {r['locust_exit']}; "
            f"stack start {r.get('stack_start_s', '-')} s, checks {r.get('check_s', '-')} s; "
            + (
                f"stack stdout {out['lines']} lines, {out['emf_lines']} EMF; "
                f"warnings logged in the bench's process (gateway, DynamoDB, snapshot thread, "
                f"checks) {r['stack_warnings']['count']}; "
                if out
                else ""
            )
            + f"load average (1, 5, 15 min) at the start {_avg(r['load_avg_at_start'])}, "
            f"as locust started {_avg(r['load_avg_before'])}, after it {_avg(r['load_avg'])}; "
            f"journeys: {journeys}"
        )
        for line in (out or {}).get("first", []):
            lines.append(f"  - stack stdout: `{line}`")
        for warning in r.get("stack_warnings", {}).get("first", []):
            lines.append(f"  - logged: {warning}")
        for failure in r["failures"]:
            lines.append(
                f"  - failure: {failure['method']} {failure['name']}: {failure['error']} "
                f"x{failure['count']}"
            )
        for exception in r["tally"]["exceptions"]:
            lines.append(
                f"  - exception in a user's step: {exception['error']} x{exception['count']}"
            )
        for sample in r["tally"]["unexpected"]:
            lines.append(f"  - unexpected answer: {json.dumps(sample, ensure_ascii=False)}")
        for problem in problems(r["invariants"]):
            lines.append(f"  - invariant: {problem}")
    return lines


def render(results: list[dict[str, Any]]) -> str:
    label_runs(results)
    sections = [
        ("Throughput, errors and business outcomes", summary_table(results)),
        ("Where the time went (during locust's run)", resources_table(results)),
        ("Embedded DynamoDB requests by operation (during locust's run)", dynamodb_table(results)),
        ("Latency per endpoint (locust's percentiles, ms)", latency_table(results)),
        ("Business refusals by request", refusals_table(results)),
        ("Seats of the popular programs after the run", seats_table(results)),
        ("Invariants after the run", invariants_table(results)),
        ("Runs", details(results)),
    ]
    out: list[str] = []
    for title, lines in sections:
        out += [f"### {title}", "", *lines, ""]
    return "\n".join(out)
