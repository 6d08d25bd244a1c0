"""The package's import graph, as the workflow's code digests read it (relative imports,
wherever they stand): no circles, and a step's digest holds only what the step runs."""

from longseq.core import fingerprint


def test_no_module_imports_itself_through_others():
    assert fingerprint.import_cycles() == []


def test_no_module_imports_from_a_lower_layer_up():
    """core < plug-ins < stats < steps < report < study < cli (fingerprint.LAYERS): every folder
    of the package has a layer, and each imports only from its own or those below."""
    folders = {p.parent.name for p in fingerprint.PACKAGE.glob("*/__init__.py")}
    assert folders == {f for layer in fingerprint.LAYERS for f in layer} - {""}
    assert fingerprint.upward_imports() == []
    assert (
        fingerprint.layer("core/data.py") < fingerprint.layer("models/lstm.py") < fingerprint.layer("cli.py")
    )


def closure(*modules):
    graph, seen, todo = fingerprint.import_graph(), set(), list(modules)
    while todo:
        module = todo.pop()
        if module not in seen and module.split("/")[-1] not in fingerprint.NOT_FOLLOWED:
            seen.add(module)
            todo += graph[module]
    return seen


def test_pretraining_runs_no_training_loop_and_no_tbptt():
    """An edit of TBPTT or of the training loop must not rerun a pretraining job."""
    pretraining = closure("steps/pretrain.py", "models/lstm.py")
    assert not {"steps/train.py", "steps/tbptt.py", "reducers/__init__.py"} & pretraining, sorted(pretraining)


def test_training_runs_no_pretraining_code():
    """A pretrained arm's trainings follow their encoder's file; an edit of the autoencoder
    reruns them through it, and reruns no other arm's training."""
    assert "steps/pretrain.py" not in closure("steps/train.py"), sorted(closure("steps/train.py"))


def test_the_cli_is_the_only_module_that_imports_the_training_loop_besides_the_benchmarks():
    importers = {m for m, targets in fingerprint.import_graph().items() if "steps/train.py" in targets}
    assert importers == {"cli.py"}, importers


def test_no_function_is_longer_than_a_screen():
    """A function over 60 lines does several jobs; split it along its seams (issue 24)."""
    import ast

    long = []
    for path in sorted(fingerprint.PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60:
                    long.append(
                        f"{path.relative_to(fingerprint.PACKAGE)}:{node.lineno} {node.name} ({lines})"
                    )
    assert long == []


def test_a_digest_reads_what_the_code_does_not_how_it_is_written(tmp_path):
    """Reformatting, comments and docstrings rerun no job; a changed constant or statement does."""
    original = 'def f(x):\n    """Why."""\n    return {"a": x,\n            "b": 2}\n'
    same = [
        "def f( x ):\n    # a comment\n    return {'a': x, 'b': 2}\n",  # layout, quotes, a comment
        'def f(x):\n    """Another docstring."""\n    return {"a": x, "b": 2,}\n',
    ]
    other = ['def f(x):\n    return {"a": x, "b": 3}\n', 'def f(x):\n    return {"a": x}\n']

    def digest(text):
        (tmp_path / "m.py").write_text(text)
        return fingerprint.step_digest.__wrapped__(tmp_path, "m.py")

    assert {digest(t) for t in [original, *same]} == {digest(original)}
    assert digest(original) not in {digest(t) for t in other}
