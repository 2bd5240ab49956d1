"""The house's one-way imports: gui → trading, logview → broker → core; only gui imports Qt; the gateway
imports nothing of the app. Read from the source (every import, also inside functions) and checked by
importing each Qt-free package in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ibticket

PACKAGE = Path(ibticket.__file__).parent
QT = ("PySide6", "shiboken6", "pyqtgraph", "qasync")
# What each layer may import of the app (besides itself and the package root's version).
ALLOWED = {
    "core": {"core"},
    "broker": {"core", "broker", "gateway"},  # the embedded gateway is started by the broker, and only there
    "trading": {"core", "broker", "trading"},
    "logview": {"core", "logview"},
    "gui": {"core", "broker", "trading", "logview", "gui", "resources"},
    "gateway": {"gateway", "resources"},
}

APP = set(ALLOWED) | {"resources"}  # the root's own modules (its version is for everyone)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in a file of the package."""
    module = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = list(module if path.name == "__init__.py" else module[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            found.append((node.lineno, name))
            if node.module is None or name == "ibticket":  # "from . import x": x is a module
                found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _layer_files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_lies_below_it(layer: str) -> None:
    stray = []
    for path in _layer_files(layer):
        for line, name in _imports(path):
            parts = name.split(".")
            if parts[0] in QT and layer != "gui":
                stray.append(f"{path.relative_to(PACKAGE)}:{line} imports {name} (only ibticket/gui may import Qt)")
            if parts[0] == "ibticket" and len(parts) > 1 and parts[1] in APP and parts[1] not in ALLOWED[layer]:
                stray.append(f"{path.relative_to(PACKAGE)}:{line} imports {name}")
    assert not stray, "\n".join(stray)


def test_the_layer_table_names_every_package() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(ALLOWED)


def test_the_qt_free_packages_load_without_qt() -> None:
    modules = [
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for layer in ("core", "broker", "trading", "logview", "gateway")
        for path in _layer_files(layer)
        if path.name != "__main__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {QT!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"Qt loaded by a Qt-free package: {result.stdout.strip()}"


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def test_no_module_imports_its_way_back_to_itself() -> None:
    """No import circles between the package's modules, counting imports inside functions and under
    TYPE_CHECKING too (a function-level import that dodges a circle is still a circle)."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets = set()
        for _line, target in _imports(path):
            # "from .x import y" names x, or x.y when y is a module
            while target and target not in paths:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                targets.add(target)
        graph[name] = targets
    circles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(" → ".join([*trail[trail.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not circles, "\n".join(circles)
