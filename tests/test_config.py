"""The study config is checked against workflow/schemas/config.schema.yaml before any job runs."""

import copy
import dataclasses
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from longseq import reducers
from longseq.core.settings import ModelConfig, TrainConfig, check_run

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def check(cfg):
    """What the workflow checks when it is parsed: the schema, then each arm's reducer options
    against that reducer's own schema (workflow/rules/common.smk)."""
    validate(cfg, SCHEMA)
    for name, arm in cfg["arms"].items():
        reducers.check_arm(arm, f"config arm {name!r}")
        own = arm.get("model", {})
        model = ModelConfig.from_dict(ModelConfig.inherit({**cfg.get("model", {}), **own}, own))
        check_run(model, TrainConfig.from_dict({**cfg.get("train", {}), **arm.get("train", {})}))


def default_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.mark.parametrize("name", ["config.yaml", "full.yaml"])
def test_shipped_configs_are_valid(name):
    check(yaml.safe_load((REPO / "config" / name).read_text()))


def test_default_plus_more_arms_is_valid():
    """config/more_arms.yaml only makes sense on top of the default: check the merge."""
    cfg = default_config()
    more = yaml.safe_load((REPO / "config" / "more_arms.yaml").read_text())
    assert not set(more["arms"]) & set(cfg["arms"])
    cfg["arms"].update(more["arms"])
    cfg["pretrain"] = more["pretrain"]
    check(cfg)
    for arm in cfg["arms"].values():
        assert arm.get("pretrain", "autoencoder") in cfg["pretrain"]


def _set(path, value):
    def edit(cfg):
        node = cfg
        for key in path[:-1]:
            node = node.setdefault(key, {})  # a section the default study leaves to the defaults
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return edit


DELETE = object()

REJECTED = {
    "unknown reducer": _set(["arms", "full", "reduce"], "squash"),
    "unknown model type": _set(["arms", "bag_baseline", "model", "type"], "gru"),
    "truncate without length": _set(["arms", "truncate_first_200", "length"], DELETE),
    "truncate keeps the middle": _set(["arms", "truncate_first_200", "keep"], "middle"),
    "zero length": _set(["arms", "truncate_last_200", "length"], 0),
    "misspelt arm key": _set(["arms", "sample_window_200", "lenght"], 10),
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
    "an option its arm's type does not take": _set(["arms", "full", "model"], {"type": "lstm", "chunk": 3}),
    "tbptt chunks not multiples of the stride": _set(
        ["arms", "full"],
        {"reduce": "full", "model": {"type": "conv_lstm"}, "train": {"mode": "tbptt", "k1": 102}},
    ),
    "runtime setting in the study config": _set(["threads"], 4),
    "arm name with a slash": _set(["arms", "a/b"], {"reduce": "full"}),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_schema_rejects(case):
    cfg = copy.deepcopy(default_config())
    REJECTED[case](cfg)
    with pytest.raises((WorkflowError, ValueError)):
        check(cfg)


def _generated(text: str, name: str) -> str:
    return text.split(f"<!-- {name}")[1].split("-->", 1)[1].split(f"<!-- /{name} -->")[0].strip()


def test_the_strategy_tables_in_config_readme_come_from_the_registries():
    from longseq import models, sources

    readme = (REPO / "config" / "README.md").read_text()
    assert _generated(readme, "reducers") == reducers.table()
    assert _generated(readme, "models") == models.table()
    assert _generated(readme, "readers") == sources.table()


def test_every_registered_strategy_has_a_checked_schema():
    """Each reducer's and model type's options schema is itself valid JSON schema with a default
    for every option, and the model settings the config schema names are ModelConfig's shared
    fields (the one place for their defaults)."""
    import jsonschema

    from longseq import models

    for name in reducers.names():
        jsonschema.Draft202012Validator.check_schema(reducers.options_schema(name))
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    for name in models.names():
        options = models.options(name)
        jsonschema.Draft202012Validator.check_schema({"properties": options})
        assert all("default" in spec for spec in options.values()), name
    model_keys = set(schema["$defs"]["model"]["properties"])
    assert model_keys == {f.name for f in dataclasses.fields(ModelConfig)} - {"options"}


def test_every_reader_follows_the_plug_in_protocol():
    """Each reader module declares what its rows may hold (read without importing it) and a
    `read`; the sheet row's schema built from them is valid, and a reader's option is refused
    on a row of another reader."""
    import jsonschema

    from longseq.core.plugins import READERS
    from longseq.study.sheet import row_schema

    jsonschema.Draft202012Validator.check_schema(row_schema())
    for name in READERS.names():
        assert set(READERS.constant(name, "KINDS")) <= {"tokens", "signal"}, name
        jsonschema.Draft202012Validator.check_schema({"properties": READERS.options(name)})
        assert callable(READERS.load(name).read), name
    validator = jsonschema.Draft202012Validator(row_schema())
    row = {"name": "x", "kind": "tokens", "reader": "listops", "split": "stratified"}
    assert validator.is_valid(row | {"n": 100})
    assert not validator.is_valid(row | {"kmer": 3})  # a fasta option
    assert not validator.is_valid(row | {"kind": "signal"})
    assert not validator.is_valid({**row, "reader": "ucr", "kind": "signal"})  # names no files


def test_the_settings_are_described_once_in_the_dataclasses_and_the_schema_is_generated():
    """config.schema.yaml's `model:`, `train:` and `pretraining:` are written from ModelConfig,
    TrainConfig and PretrainConfig (`python -m longseq.core.settings`): a field added, renamed or
    re-described there without regenerating fails here."""
    from longseq.core.settings import PRETRAIN_DEFAULTS, SCHEMA_SECTIONS, PretrainConfig, schema_of

    schema = yaml.safe_load(Path(SCHEMA).read_text())
    for name, cls in SCHEMA_SECTIONS.items():
        assert schema["$defs"][name] == schema_of(cls)
        assert all(p["description"] for p in schema_of(cls)["properties"].values())
    assert schema["properties"]["pretrain"]["additionalProperties"] == {"$ref": "#/$defs/pretraining"}
    assert set(PRETRAIN_DEFAULTS) == {f.name for f in dataclasses.fields(PretrainConfig)} - {"seed"}


def test_every_plug_in_kind_is_read_by_one_protocol_without_importing_it():
    """Reducers, model types and references through longseq.core.plugins: what it reads from their
    source (options, required keys, description) is what the imported modules hold; and the
    settings read the model types through it, importing nothing from the layers above."""
    import ast
    from importlib import import_module

    from longseq.core import plugins

    for kind in (plugins.REDUCERS, plugins.MODELS, plugins.REFERENCES):
        assert kind.names()
        for name in kind.names():
            mod = import_module(f"longseq.{kind.folder}.{name}")
            assert kind.options(name) == getattr(mod, "OPTIONS", {}), name
            assert kind.required(name) == getattr(mod, "REQUIRED", []), name
            assert kind.describe(name) == " ".join(mod.__doc__.split("\n\n")[0].split()), name
    with pytest.raises(ValueError, match="unknown model type 'gru'"):
        plugins.MODELS.load("gru")
    tree = ast.parse((REPO / "src" / "longseq" / "core" / "settings.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level}
    assert imported == {"plugins"}
