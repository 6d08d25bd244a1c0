"""Which package modules a workflow step runs, and a digest of them: the `code` param of every
rule, so that editing a step's code reruns that step's jobs and nothing else.

Imports are read from the source (relative imports, also those inside functions), never by
importing, so the workflow's parse stays free of torch. The same graph says whether the
package has import circles (tests/test_imports.py keeps it free of them).
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# cli.py is argument glue; tuning.py, for reduce and train, only merges a chosen.json, an input
# whose change reruns them anyway (its sampler and choice are in the 'choose' digest)
NOT_FOLLOWED = ("cli.py", "tuning.py")


def imported(path: Path) -> list[Path]:
    """The package modules a module imports (relative imports, wherever they stand)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            targets = [node.module] if node.module else [alias.name for alias in node.names]
            for target in targets:
                stem = base.joinpath(*target.split("."))
                found += [f for f in (stem.with_suffix(".py"), stem / "__init__.py") if f.is_file()]
    return found


def import_graph() -> dict[str, set[str]]:
    """Every module of the package (its path inside it) -> the package modules it imports."""

    def name(path: Path) -> str:
        return path.relative_to(PACKAGE).as_posix()

    return {
        name(path): {name(p) for p in imported(path)} - {name(path)} for path in sorted(PACKAGE.rglob("*.py"))
    }


def import_cycles() -> list[list[str]]:
    """The package's import circles (strongly connected groups of two or more modules)."""
    graph, index, low, stack, on_stack, groups = import_graph(), {}, {}, [], set(), []

    def visit(node):  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


@cache
def step_digest(package: Path, *modules: str) -> str:
    """A digest of the package modules one workflow step runs: the named ones and every package
    module they import, followed through their imports. Plug-ins (reducers, model types,
    readers) load by name, not by import, so a job's digest holds only the ones its arm or data
    set names. `package`: the source folder the workflow runs (beside its Snakefile, or the
    installed package). Not the checkpoint's `train.checkpoint_code_digest`, which covers every
    module a training process has loaded."""
    files, todo = set(), [package / m for m in modules]
    while todo:
        path = todo.pop()
        if path not in files and path.name not in NOT_FOLLOWED:
            files.add(path)
            todo += imported(path)
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(code_of(path))
    return digest.hexdigest()[:16]


def code_of(path: Path) -> bytes:
    """What a module does, without how it is written: its syntax tree with docstrings left out,
    so that formatting (`ruff format`), comments and docstrings rerun nothing, while any change
    to a statement or a constant does."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and _docstring(
            body
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def _docstring(body: list) -> bool:
    first = body[0] if body else None
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )


if __name__ == "__main__":  # python -m longseq.fingerprint: the graph's edges and its circles
    graph = import_graph()
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports between them")
    print("circles:", import_cycles() or "none")
