"""The study config is checked against workflow/schemas/config.schema.yaml before any job runs."""

import copy

import pytest
import yaml
from conftest import REPO
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def default_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.mark.parametrize("name", ["config.yaml", "full.yaml"])
def test_shipped_configs_are_valid(name):
    validate(yaml.safe_load((REPO / "config" / name).read_text()), SCHEMA)


def test_default_plus_more_arms_is_valid():
    """config/more_arms.yaml only makes sense on top of the default: check the merge."""
    cfg = default_config()
    more = yaml.safe_load((REPO / "config" / "more_arms.yaml").read_text())
    assert not set(more["arms"]) & set(cfg["arms"])
    cfg["arms"].update(more["arms"])
    validate(cfg, SCHEMA)
    for arm in cfg["arms"].values():
        assert arm.get("pretrain", "autoencoder") in cfg["pretrain"]


def _set(path, value):
    def edit(cfg):
        node = cfg
        for key in path[:-1]:
            node = node[key]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return edit


DELETE = object()

REJECTED = {
    "unknown reducer": _set(["arms", "full", "reduce"], "squash"),
    "truncate without length": _set(["arms", "truncate_first_200", "length"], DELETE),
    "truncate keeps the middle": _set(["arms", "truncate_first_200", "keep"], "middle"),
    "zero length": _set(["arms", "truncate_last_200", "length"], 0),
    "misspelt arm key": _set(["arms", "sample_steps_200", "lenght"], 10),
    "unknown sampling mode": _set(["arms", "sample_window_200", "mode"], "blocks"),
    "unknown summary statistic": _set(["arms", "summarize", "stats"], ["median"]),
    "no data set sheet": _set(["dataset_sheet"], DELETE),
    "a data set defined in the config, not the sheet": _set(["datasets", "imdb"], {"source": "imdb"}),
    "data set training typo": _set(["datasets", "acsf1", "train", "max_epoch"], 3),
    "no seeds": _set(["seeds"], []),
    "a seed twice": _set(["seeds"], [0, 0, 1]),
    "unknown LSTM init": _set(["model", "init"], "zeros"),
    "unknown scaling": _set(["model", "scaling"], "minmax"),
    "negative seed": _set(["seeds"], [-1]),
    "model typo": _set(["model", "hiden"], 3),
    "runtime setting in the study config": _set(["threads"], 4),
    "arm name with a slash": _set(["arms", "a/b"], {"reduce": "full"}),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_schema_rejects(case):
    cfg = copy.deepcopy(default_config())
    REJECTED[case](cfg)
    with pytest.raises(WorkflowError):
        validate(cfg, SCHEMA)
