"""The layering rule (docs/decisions.md, "Layers"): requests walk handler -> service -> store.

Read from the source with `ast`, so a lazy import inside a function counts as much as one at
the top of a module.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "functions" / "navigator"

# What each layer of the shared package may not import.
FORBIDDEN = {
    "domain": ("navigator.api", "navigator.service", "navigator.store"),
    "store": ("navigator.api", "navigator.service"),
    "service": ("navigator.api",),
}
# What only the store may spell: DynamoDB key prefixes, and PynamoDB's private connection.
KEY_PREFIX = re.compile(
    r"""["'](PARENT|ENR|CERT|SEQ|M|CP|DUE|DONE|END|PERIOD|PROGRAM|CHILD|SNILS|RUN|PASS|CHG|PROVIDER)#"""
)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer):
    offences = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules(layer)
        for name in imports_of(path)
        if name.startswith(FORBIDDEN[layer])
    }
    assert not offences


def test_the_check_sees_a_lazy_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from navigator.api.app import Api\n")
    assert "navigator.api.app" in imports_of(module)


def _code_outside_the_store() -> list[Path]:
    roots = [ROOT / "functions", ROOT / "infra", ROOT / "bench", ROOT / "measure", ROOT / "tests"]
    store = PACKAGE / "store"
    return sorted(
        path
        for root in roots
        for path in root.rglob("*.py")
        if store not in path.parents and path != Path(__file__).resolve()
    )


def test_only_the_store_spells_keys_and_reaches_for_private_connections():
    offences = []
    for path in _code_outside_the_store():
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if KEY_PREFIX.search(line) or "_get_connection" in line:
                offences.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offences


def test_the_key_check_sees_a_key():
    assert KEY_PREFIX.search('pk = f"ENR#{enrollment_id}"')
    assert not KEY_PREFIX.search('"C#" is a language')
