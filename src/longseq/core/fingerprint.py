"""Which package modules a workflow step runs, and a digest of them: the `code` param of every
rule, so that editing a step's code reruns that step's jobs and nothing else.

Imports are read from the source (relative imports, also those inside functions), never by
importing, so the workflow's parse stays free of torch. The same graph says whether the
package has import circles or imports from a lower layer up (tests/test_imports.py keeps it
free of both).
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # src/longseq
# cli.py is argument glue; tuning.py, for reduce and train, only merges a chosen.json, an input
# whose change reruns them anyway (its sampler and choice are in the 'choose' digest)
NOT_FOLLOWED = ("cli.py", "tuning.py")

# The package's layers, lowest first: a module imports from its own layer or those below it.
# A layer is a folder; the plug-in folders are one layer; the root holds the CLI on top.
LAYERS = (
    ("core",),  # format, settings, plug-in protocol, runtime, digests, scores, plotting
    ("sources", "reducers", "models", "references"),  # the plug-ins
    ("stats",),  # the verdict's statistics
    ("steps",),  # what a workflow job runs: scaling, pretraining, training, evaluation, prediction
    ("report",),  # tables, figures, job times, study against study
    ("study",),  # a study file and its sheet, checked; a new study written
    ("",),  # cli.py, __main__.py
)


def imported(path: Path) -> list[Path]:
    """The package modules a module imports (relative imports, wherever they stand)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            names = [alias.name for alias in node.names]
            # `from .pkg import mod` imports the package and its module; `from . import mod` the module
            targets = [node.module, *(f"{node.module}.{n}" for n in names)] if node.module else names
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


def layer(module: str) -> int:
    """The layer of a module (its path inside the package): the rank of its folder in LAYERS."""
    folder = module.split("/")[0] if "/" in module else ""
    return next(rank for rank, folders in enumerate(LAYERS) if folder in folders)


def upward_imports() -> list[tuple[str, str]]:
    """Every import from a lower layer up: (importer, imported)."""
    return [
        (module, target)
        for module, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]


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


if __name__ == "__main__":  # python -m longseq.core.fingerprint: the graph's edges and its circles
    graph = import_graph()
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports between them")
    print("circles:", import_cycles() or "none")
    print("imports from a lower layer up:", upward_imports() or "none")
    for rank, folders in enumerate(LAYERS):
        print(f"  layer {rank}: {', '.join(f or '(root)' for f in folders)}")
