"""The `navigator` command: the local stack and its tools (API.md, "Local stack")."""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def _serve(args: argparse.Namespace) -> int:
    from infra.local.demo import (
        DEMO_OPERATOR_SUB,
        DEMO_PARENT_SUB,
        DEMO_PAYER_ID,
        DEMO_PAYER_SUB,
        DEMO_PROVIDER_SUB,
        demo_provider_id,
    )
    from infra.local.stack import LocalStack
    from infra.local.tokens import issue_token

    if args.dynamodb_behaviours is not None:
        import os

        from infra.local.behaviours import ENV, parse

        parse(args.dynamodb_behaviours)  # refuse a typo before starting anything
        os.environ[ENV] = args.dynamodb_behaviours  # read by the embedded DynamoDB
    stack = LocalStack(host=args.host, port=args.port, workers=args.workers, demo=not args.no_demo)
    print("Starting the local stack...", flush=True)
    stack.start()
    print(f"DynamoDB endpoint: {stack.dynamodb_endpoint}")
    print(f"  (other commands: export DYNAMODB_ENDPOINT={stack.dynamodb_endpoint})")
    print(f"API: {stack.url}")
    print(f"Portal: {stack.url}/   API documentation: {stack.url}/docs")
    if not args.no_demo:
        print("Demo tokens (valid for 7 days):")
        print(f"  PARENT_TOKEN={issue_token('parent', DEMO_PARENT_SUB)}")
        provider = demo_provider_id()
        print(f"  PROVIDER_TOKEN={issue_token('provider', DEMO_PROVIDER_SUB, provider)}")
        print(f"  OPERATOR_TOKEN={issue_token('operator', DEMO_OPERATOR_SUB)}")
        payer_token = issue_token("payer", DEMO_PAYER_SUB, payer_id=DEMO_PAYER_ID)
        print(f"  PAYER_TOKEN={payer_token}")
    print("Press Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    stack.stop()
    return 0


def _token(args: argparse.Namespace) -> int:
    from infra.local.tokens import issue_token

    if args.role == "provider" and not args.provider_id:
        print("a provider token needs --provider-id", file=sys.stderr)
        return 2
    if args.role == "payer" and not args.payer_id:
        print("a payer token needs --payer-id", file=sys.stderr)
        return 2
    print(issue_token(args.role, args.sub, args.provider_id, payer_id=args.payer_id))
    return 0


def _need_endpoint() -> bool:
    import os

    from infra.local.stack import use_endpoint

    endpoint = os.environ.get("DYNAMODB_ENDPOINT")
    if not endpoint:
        print(
            "Set DYNAMODB_ENDPOINT to the address that `navigator serve` printed.",
            file=sys.stderr,
        )
        return False
    use_endpoint(endpoint)
    return True


def _debit(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from navigator.domain.errors import DomainError
    from navigator.service import debit
    from navigator.service.dispatchers import InProcess

    if not _need_endpoint():
        return 2
    with tqdm(unit=" enrollments", desc=f"debit {args.month}", file=sys.stderr) as bar:
        try:
            run = debit.start_run(args.month, InProcess(progress=bar.update))
        except DomainError as refusal:
            print(f"{refusal.code}: {refusal.message}", file=sys.stderr)
            return 1
    print(json.dumps(run, ensure_ascii=False, indent=2))
    return 0


def _invoices(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from navigator.domain.errors import DomainError
    from navigator.service import settlement

    if not _need_endpoint():
        return 2
    desc = f"{args.kind} invoices {args.month}"
    with tqdm(unit=" months", desc=desc, file=sys.stderr) as bar:
        try:
            run = settlement.start_run(
                args.month, args.kind, dispatch_here=True, progress=bar.update
            )
        except DomainError as refusal:
            print(f"{refusal.code}: {refusal.message}", file=sys.stderr)
            return 1
    print(json.dumps(run, ensure_ascii=False, indent=2))
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    import json

    from navigator.service.reconciliation import reconcile

    if not _need_endpoint():
        return 2
    report = reconcile()
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if not report["mismatches"] else 1


def _seed(args: argparse.Namespace) -> int:
    import json
    import resource

    from tqdm import tqdm

    from infra.local.seed import seed

    if not _need_endpoint():
        return 2
    sizes = {"programs": args.programs, "children": args.children, "enrollments": args.enrollments}
    bars: dict[str, tqdm] = {}

    def progress(kind: str, total: int, finished: int) -> None:
        if kind not in bars:
            for bar in bars.values():
                bar.close()
            bars[kind] = tqdm(total=total, desc=f"seed {kind}", unit="", file=sys.stderr)
        bars[kind].update(finished)

    report = seed(sizes, progress)
    for bar in bars.values():
        bar.close()
    # This process's peak; the stack's DynamoDB holds the data (see `navigator serve`).
    report["seed_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    del report["python"]
    print(json.dumps(report, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="navigator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API with an embedded DynamoDB")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--workers", type=int, default=4, help="handler worker processes")
    serve.add_argument("--no-demo", action="store_true", help="start without demo data")
    serve.add_argument(
        "--dynamodb-behaviours",
        metavar="LIST",
        help="AWS behaviours of the embedded DynamoDB: all, or e.g. lag=0-1000,throttle,"
        "conflicts,unprocessed=0.1,faults=0.01,seed=7 (default: $NAVIGATOR_DYNAMODB_BEHAVIOURS, "
        "else off)",
    )
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="print a JWT that the local gateway accepts")
    token.add_argument("--role", required=True, choices=["parent", "provider", "payer", "operator"])
    token.add_argument("--sub", required=True)
    token.add_argument("--provider-id")
    token.add_argument("--payer-id")
    token.set_defaults(run=_token)

    debit = commands.add_parser("debit", help="run a month's debit in-process, with progress")
    debit.add_argument("--month", required=True, help="YYYY-MM, a month that has ended")
    debit.set_defaults(run=_debit)

    invoices = commands.add_parser(
        "invoices", help="form a month's advance or final invoices in-process, with progress"
    )
    invoices.add_argument("--month", required=True, help="YYYY-MM")
    invoices.add_argument("--kind", required=True, choices=["advance", "final"])
    invoices.set_defaults(run=_invoices)

    seed = commands.add_parser("seed", help="load a region's worth of data into a running stack")
    seed.add_argument("--programs", type=int, default=20_000)
    seed.add_argument("--children", type=int, default=100_000)
    seed.add_argument("--enrollments", type=int, default=100_000)
    seed.set_defaults(run=_seed)

    reconcile = commands.add_parser("reconcile", help="check every certificate against its ledger")
    reconcile.set_defaults(run=_reconcile)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
