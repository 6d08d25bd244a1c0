"""ListOps as the LRA protocol generates it: every label checked by an evaluator written apart
from the generator (a stack machine over the printed tokens), and the protocol's shape."""

import numpy as np
import pytest

from longseq import sources
from longseq.core.data import DataError
from longseq.sources import listops


def evaluate(symbols: list[str]) -> tuple[int, int, list[int]]:
    """(value, depth, argument counts) of a prefix expression read left to right with a stack."""
    stack, depth, arity = [], 0, []
    for symbol in symbols:
        if symbol.startswith("["):
            stack.append([symbol])
            depth = max(depth, len(stack))
        elif symbol == "]":
            op, *args = stack.pop()
            arity.append(len(args))
            ordered = sorted(args)
            value = {
                "[MIN": ordered[0],
                "[MAX": ordered[-1],
                "[MED": (ordered[(len(args) - 1) // 2] + ordered[len(args) // 2]) // 2,
                "[SM": sum(args) % 10,
            }[op]
            if not stack:
                return value, depth, arity
            stack[-1].append(value)
        else:
            stack[-1].append(int(symbol))
    raise AssertionError("unbalanced expression")


@pytest.fixture(scope="module")
def records():
    return listops.generate(300, seed=5)


def test_every_label_is_the_value_an_independent_evaluator_gives(records):
    for tokens, label in records:
        value, _, _ = evaluate([listops.VOCAB[t] for t in tokens])
        assert value == label


def test_the_records_follow_the_protocol(records):
    lengths = np.array([len(tokens) for tokens, _ in records])
    assert lengths.min() > 500 and lengths.max() < 2000
    assert len({tokens.tobytes() for tokens, _ in records}) == len(records)  # no tree twice
    for tokens, _ in records:
        _, depth, arity = evaluate([listops.VOCAB[t] for t in tokens])
        assert depth <= 9 and 2 <= min(arity) and max(arity) <= 10  # digits sit at depth 10 at most
    shares = np.bincount([label for _, label in records], minlength=10) / len(records)
    # MIN over many digits is mostly 0 and MAX mostly 9: the protocol's two large classes
    assert shares[0] > 0.1 and shares[9] > 0.1 and shares[1:9].max() < shares[[0, 9]].min()


def test_the_generator_is_seeded_and_pinned_by_its_digest():
    spec = {"reader": "listops", "n": 200, "seed": 1, "split": "stratified", "valid_fraction": 0.25}
    first = sources.ingest(spec)
    pin = first.meta["digest"]
    again = sources.ingest(spec | {"digest": pin})
    assert np.array_equal(first.splits["train"].values, again.splits["train"].values)
    assert listops.digest(listops.generate(200, seed=2)) != pin
    with pytest.raises(DataError, match="does not match the pinned"):
        sources.ingest(spec | {"digest": "0" * 64})
