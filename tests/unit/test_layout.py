"""The layout's two rules, read from the source with :mod:`ast` (no import is executed):

- no import circles among the modules of ``bot/``, ``faq/`` and ``handlers/`` (every import
  counts: at module level, inside functions, and under ``if TYPE_CHECKING:`` — a circle that
  only annotations close is still two modules that cannot be understood one without the other);
- no module imports another module's private (``_name``) name;

and ``faq/`` stays pure: it imports neither ``bot`` nor ``handlers``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "faq", "handlers")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, wherever it is (functions, ``if TYPE_CHECKING:`` blocks)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from … import`` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def graph() -> dict[str, set[str]]:
    """Module → the modules of ours it imports."""
    modules = sources()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        for node in imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = resolve(node, name, is_package)
                # "from package import module" imports the module; otherwise the name's module
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]  # "bot.db.models.X" → "bot.db.models"
                if target and target != name:
                    edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_checker_sees_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_imports_in_functions_and_type_checking_blocks() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import typed_only\n"
        "def f():\n    import late\n"
    )
    assert [a.name for n in imports(tree) for a in n.names] == [
        "TYPE_CHECKING",
        "typed_only",
        "late",
    ]


#: Circles being taken apart elsewhere in issue 11: the database layer (point 4). Remove an
#: entry when its circle is gone.
BEING_UNDONE = [
    ["bot.db.desk_models", "bot.db.models"],
]


def test_no_import_circles() -> None:
    edges = graph()
    assert "handlers.handoff" in edges["handlers.questions"]  # the graph is really read
    assert [c for c in cycles(edges) if c not in BEING_UNDONE] == []


def test_no_module_imports_another_modules_private_name() -> None:
    offences = []
    for name, path in sources().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in imports(tree):
            if not isinstance(node, ast.ImportFrom) or node.module == "__future__":
                continue
            target = resolve(node, name, path.name == "__init__.py")
            if not target.startswith(PACKAGES):
                continue  # a library's private name is that library's business
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    offences.append(f"{name} imports {target}.{alias.name}")
            if any(part.startswith("_") and part != "__init__" for part in target.split(".")):
                offences.append(f"{name} imports the private module {target}")
    assert offences == []


def test_faq_imports_neither_bot_nor_handlers() -> None:
    edges = graph()  # annotations too: faq/ names nothing of theirs
    impure = {
        f"{name} → {target}"
        for name, targets in edges.items()
        if name.startswith("faq")
        for target in targets
        if not target.startswith("faq")
    }
    assert impure == set()
