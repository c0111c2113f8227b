"""docs/openapi.json: generated from the code, committed, and saying what API.md says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra import openapi

ROOT = Path(__file__).resolve().parents[2]
# The contract, committed beside the document so that a clean clone can check it; the copy
# must match the shared original wherever that is checked out beside the project.
CONTRACT = ROOT / "docs" / "API.md"
SHARED_CONTRACT = ROOT.parent / "shared" / "API.md"
METHODS = ("get", "post", "put", "patch", "delete")
# Statuses whose code API.md's table leaves to the envelope's plain reading.
GENERAL_CODES = {
    ("401", "unauthorized"),
    ("403", "forbidden"),
    ("404", "not_found"),
    ("413", "payload_too_large"),
    ("429", "throttled"),
}

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What API.md promises that is not built yet, each naming the issue that builds it. An issue
# empties its part of these lists; nothing else in the contract is skipped.
NOT_BUILT_ROUTES: dict[tuple[str, str], int] = {
    ("POST", "/reconciliations"): 13,
}
# (schema, field) of API.md that the document does not have yet.
NOT_BUILT_FIELDS: dict[tuple[str, str], int] = {
    ("Reconciliation", "reconciliation_id"): 13,
    ("Reconciliation", "status"): 13,
    ("Reconciliation", "invoices_checked"): 13,
    ("Reconciliation", "mismatches_count"): 13,
    ("Reconciliation", "started_at"): 13,
    ("Reconciliation", "finished_at"): 13,
}
# (status, code) of API.md that no route declares yet.
NOT_BUILT_CODES: dict[tuple[str, str], int] = {}


def built(names: set, not_built: dict) -> set:
    """The contract's names less those still on a "not built yet" list."""
    return {name for name in names if name not in not_built}


def built_fields(schema: str, names: set[str]) -> set[str]:
    return {name for name in names if (schema, name) not in NOT_BUILT_FIELDS}


@pytest.fixture(scope="module")
def document():
    return openapi.build()


@pytest.fixture(scope="module")
def contract():
    text = CONTRACT.read_text(encoding="utf-8")
    if SHARED_CONTRACT.exists():
        assert SHARED_CONTRACT.read_text(encoding="utf-8") == text, "docs/API.md is out of date"
    return text


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def error_codes(document):
    """(status, code) of every refusal the document declares, with where it is declared."""
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                for code in schema["properties"]["error"]["properties"]["code"]["enum"]:
                    yield status, code, f"{method} {path}"


def test_the_committed_document_is_what_the_code_generates(document):
    committed = openapi.DOCUMENT.read_text(encoding="utf-8")
    assert committed == openapi.render(document), "docs/openapi.json is stale: run `make openapi`"


def test_every_route_of_the_contract_and_no_other(document, contract):
    from infra.template import api_routes

    promised = {
        (method, path.split("?", 1)[0])
        for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", contract)
    }
    promised = built(promised, NOT_BUILT_ROUTES)
    documented = {(method, path) for method, path, _ in operations(document)}
    assert documented == promised
    assert documented == {(r.method, r.path) for r in api_routes()}


def _field_list(contract: str, name: str) -> set[str]:
    """The field names of API.md's '**Name** fields:' list: its bullets (continued on indented
    lines), or an inline sentence. Parenthesised remarks name values, not fields, and a
    bullet's text after its colon describes the field."""
    block = contract.split(f"**{name}** fields:", 1)[1].split("\n\n", 1)[0]
    entries: list[str] = []
    for line in block.splitlines():
        if line.startswith("- "):
            entries.append(line[2:])
        elif entries and line.startswith(" "):
            entries[-1] += " " + line.strip()
    if not entries:  # an inline list, up to the end of its sentence
        entries = [re.split(r"\.(\s|$)", " ".join(block.split()), maxsplit=1)[0]]
    names: set[str] = set()
    for entry in entries:
        entry = re.sub(r"\([^)]*\)", "", entry).split(":", 1)[0]
        names.update(re.findall(r"`(\w+)`", entry))
    return names


def _inline_fields(contract: str, name: str) -> set[str]:
    """The names in API.md's one-sentence '**Name** fields: `a`, `b` (a note), `c`.'"""
    block = contract.split(f"**{name}** fields:", 1)[1].split("\n\n", 1)[0]
    sentence = re.split(r"\.\s", block.replace("\n", " "), maxsplit=1)[0]
    return set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", sentence)))


def _braced(contract: str, after: str) -> set[str]:
    """The names in the first `{a, b, c?: bool}` after a phrase of API.md."""
    text = contract.split(after, 1)[1]
    inner = re.search(r"`\{([^}]*)\}`", text).group(1)
    return {part.split(":")[0].strip().rstrip("?") for part in inner.split(",")}


def properties(document, schema: str) -> set[str]:
    return set(document["components"]["schemas"][schema]["properties"])


@pytest.mark.parametrize(
    "schema, contract_name",
    [
        ("Program", "Program"),
        ("Enrollment", "Enrollment"),
        ("Certificate", "Certificate"),
        ("LedgerEntry", "LedgerEntry"),
        ("DebitRun", "DebitRun"),
        ("Invoice", "Invoice"),
        ("InvoiceRun", "InvoiceRun"),
        ("InvoiceLine", "InvoiceLine"),
    ],
)
def test_objects_have_exactly_the_contracts_fields(document, contract, schema, contract_name):
    assert properties(document, schema) == built_fields(
        schema, _field_list(contract, contract_name)
    )


def test_the_other_bodies_match_the_contract(document, contract):
    assert properties(document, "Child") == built_fields("Child", _braced(contract, "A Child is"))
    assert properties(document, "ChildIn") == built_fields(
        "ChildIn", _braced(contract, "| `POST /children` |")
    )
    assert properties(document, "ProviderIn") == _braced(contract, "| `POST /providers` |")
    assert properties(document, "Provider") == properties(document, "ProviderIn")
    assert properties(document, "EnrollmentIn") == _braced(contract, "| `POST /enrollments` |")
    assert properties(document, "EnrollmentMade") == _field_list(contract, "Enrollment") | {
        "certificate"
    }
    assert properties(document, "ScheduleMonth") == _braced(contract, "- `schedule`: a list of")
    assert properties(document, "PeriodIn") == _braced(contract, "| `PUT /periods/{period_id}` |")
    assert properties(document, "DebitRunIn") == _braced(contract, "| `POST /debit-runs` |")
    assert properties(document, "PayerIn") == _braced(contract, "| `PUT /payers/{payer_id}` |")
    assert properties(document, "BudgetIn") == _braced(
        contract, "| `PUT /payers/{payer_id}/budgets/{period_id}` |"
    )
    assert properties(document, "Payer") == _inline_fields(contract, "Payer")
    assert properties(document, "Budget") == _inline_fields(contract, "Budget")
    assert properties(document, "PayerList") == {"items", "next_cursor"}
    assert properties(document, "BudgetList") == {"items", "next_cursor"}
    assert properties(document, "CompletenessIn") == {"percent"}
    assert properties(document, "InvoiceRunIn") == _braced(contract, "| `POST /invoice-runs` |")
    assert properties(document, "PayIn") == _braced(
        contract, "| `POST /invoices/{invoice_id}/pay` |"
    )
    assert properties(document, "Reconciliation") == built_fields(
        "Reconciliation", _field_list(contract, "Reconciliation")
    )
    writable = properties(document, "ProgramIn")
    assert writable == properties(document, "ProgramPatch")
    assert writable == properties(document, "Program") - {
        "program_id",
        "provider_id",
        "provider_name",
        "seats_taken",
        "seats_left",
    }


def test_every_answer_field_is_always_present_and_nothing_else(document):
    for name, schema in document["components"]["schemas"].items():
        if name.endswith(("In", "Patch")):
            continue
        assert schema.get("additionalProperties") is False, name
        assert set(schema["required"]) == set(schema["properties"]), name


def test_lists_are_items_and_next_cursor(document):
    for method, path, operation in operations(document):
        success = next(s for s in operation["responses"] if s.startswith("2"))
        content = operation["responses"][success]["content"]
        if "application/json" not in content:  # a file: the register
            assert set(content) == {"text/csv", XLSX}, (method, path)
            continue
        ref = content["application/json"]["schema"]["$ref"]
        name = ref.rsplit("/", 1)[1]
        if name.endswith(("List", "Page")):
            assert properties(document, name) == {"items", "next_cursor"}, (method, path)
            params = {p["name"] for p in operation.get("parameters", [])}
            assert {"limit", "cursor"} <= params, (method, path)
            codes = {(s, c) for s, c, where in error_codes(document) if where == f"{method} {path}"}
            assert ("400", "invalid_cursor") in codes, (method, path)


def test_every_error_code_of_the_contract_is_declared_where_it_belongs(document, contract):
    named = set(re.findall(r"`(\d{3}) ([a-z_]+)`", contract))
    enrollment_list = contract.split("with `409` and one of these codes:", 1)[1].split(".", 1)[0]
    enrollment_codes = set(re.findall(r"`([a-z_]+)`", enrollment_list))
    assert len(enrollment_codes) == 9
    named |= {("409", code) for code in enrollment_codes}
    named = built(named, NOT_BUILT_CODES)
    enrollment_codes = {c for c in enrollment_codes if ("409", c) not in NOT_BUILT_CODES}
    declared = {(status, code) for status, code, _ in error_codes(document)}
    assert named <= declared, named - declared
    assert declared - named <= GENERAL_CODES, (declared - named) - GENERAL_CODES
    post_enrollments = {
        code for status, code, where in error_codes(document) if where == "POST /enrollments"
    }
    assert enrollment_codes <= post_enrollments


def test_refusals_follow_the_conventions(document):
    for method, path, operation in operations(document):
        responses = operation["responses"]
        assert "503" in responses and "Retry-After" in responses["503"]["headers"]
        assert "Retry-After" in responses["429"]["headers"]
        protected = bool(operation.get("security"))
        assert protected == ("401" in responses) == ("403" in responses), (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(responses), (method, path)
        else:  # a route that reads no body refuses none
            assert "413" not in responses, (method, path)
        assert "500" not in responses


def test_no_powertools_default_validation_schema_is_left(document):
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert '"msg"' not in text


def test_protected_routes_name_the_bearer_scheme(document):
    schemes = document["components"]["securitySchemes"]
    from navigator.api.app import BEARER

    assert schemes[BEARER]["scheme"] == "bearer"
    public = {(m, p) for m, p, op in operations(document) if not op.get("security")}
    assert public == {
        ("GET", "/programs"),
        ("GET", "/programs/{program_id}"),
        ("GET", "/providers/{provider_id}"),
        ("GET", "/periods"),
    }


def test_the_not_built_lists_name_only_what_the_contract_promises(contract):
    """A stale entry (built, or gone from API.md) must leave the list."""
    routes = {
        (method, path.split("?", 1)[0])
        for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", contract)
    }
    assert set(NOT_BUILT_ROUTES) <= routes
    assert set(NOT_BUILT_CODES) <= set(re.findall(r"`(\d{3}) ([a-z_]+)`", contract)) | {
        ("409", "no_certificates_left")
    }
    assert all(
        issue in (13, 14, 15)
        for issue in [
            *NOT_BUILT_ROUTES.values(),
            *NOT_BUILT_FIELDS.values(),
            *NOT_BUILT_CODES.values(),
        ]
    )


def test_nothing_on_the_not_built_lists_is_built(document):
    documented = {(method, path) for method, path, _ in operations(document)}
    assert not documented & set(NOT_BUILT_ROUTES)
    schemas = document["components"]["schemas"]
    for schema, field in NOT_BUILT_FIELDS:
        assert field not in schemas.get(schema, {}).get("properties", {}), (schema, field)
    declared = {(status, code) for status, code, _ in error_codes(document)}
    assert not declared & set(NOT_BUILT_CODES)
