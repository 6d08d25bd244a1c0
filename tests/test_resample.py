"""Resampled splits (the sheet's `resample: true`): each seed draws its own split of the pooled
records, with the fixed split's size and class counts, and everything fitted is fitted on it."""

import json

import numpy as np
import pytest
import torch
from conftest import REPO
from test_workflow import snakemake, tiny_config

from longseq import sources
from longseq.core import data
from longseq.sources import _splits as splits
from longseq.study import Study

SYNTHETIC = {
    "name": "syn",
    "kind": "tokens",
    "reader": "synthetic",
    "split": "stratified",
    "n": 60,
    "length": 30,
}


def parts(ds) -> dict[str, set[int]]:
    return {name: set(split.origin.tolist()) for name, split in ds.splits.items()}


def class_counts(ds) -> dict[str, list[int]]:
    return {
        name: np.bincount(split.labels, minlength=ds.n_classes).tolist() for name, split in ds.splits.items()
    }


@pytest.mark.parametrize(
    "spec",
    [
        SYNTHETIC,
        {
            "name": "ucr",
            "kind": "signal",
            "reader": "ucr",
            "split": "given",
            "train_file": str(REPO / ".test/data/tiny_TRAIN.ts"),
            "test_file": str(REPO / ".test/data/tiny_TEST.ts"),
            "valid_fraction": 0.25,
        },
    ],
)
def test_a_resample_deals_every_record_to_one_part_in_the_fixed_splits_counts(spec):
    fixed = sources.ingest(spec, spec["name"])
    first, second = (sources.ingest(spec, spec["name"], resample) for resample in (0, 1))
    pooled = set().union(*parts(fixed).values())
    for ds in (first, second):
        found = parts(ds)
        assert not found["train"] & found["valid"] and not found["train"] & found["test"]
        assert not found["valid"] & found["test"]
        assert set().union(*found.values()) == pooled  # every record, once
        assert class_counts(ds) == class_counts(fixed)
    assert parts(first)["test"] != parts(second)["test"] != parts(fixed)["test"]
    again = sources.ingest(spec, spec["name"], 1)  # a seed's resample is the same every time
    assert data.dataset_digest(again) == data.dataset_digest(second)
    assert second.meta["resample"] == 1 and "resample" not in fixed.meta


def test_a_resample_of_a_group_split_deals_whole_groups_anew():
    """Records of one group (a locus, a recording) share a part in every resample; the parts'
    sizes vary a little from seed to seed, and the verdict reads the resamples' records apart."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), rng.integers(1, 6, 40))
    records = sources.Records(
        "tokens",
        [np.ones(5, np.int32)] * len(groups),
        rng.integers(0, 2, len(groups)),
        ["a", "b"],
        groups=groups,
    )
    spec = {"reader": "fasta", "split": "group"}
    resamples = [splits.split_of(records, spec, "dna", "group", r) for r in (0, 1)]
    for rows in resamples:
        owner = {}
        for part, taken in rows.items():
            for group in set(groups[taken].tolist()):
                assert owner.setdefault(group, part) == part  # no group in two parts
        assert sum(len(t) for t in rows.values()) == len(groups)
    assert set(resamples[0]["test"].tolist()) != set(resamples[1]["test"].tolist())


def test_resampled_splits_are_refused_with_a_search():
    config = {"seeds": [0, 1], "dataset_sheet": "sheet.tsv", "arms": {"full": {"reduce": "full"}}}
    sheet = {"syn": {"kind": "tokens", "reader": "synthetic", "split": "stratified", "resample": True}}
    tune = {"trials": 2, "seed": 0, "train_seed": 7, "space": {"train": {"lr": [0.003]}}}
    with pytest.raises(ValueError, match="no search on one split is blind to every test split"):
        Study(config | {"tune": tune}, sheet)
    study = Study(config, sheet)
    assert [study.data_name("syn", seed) for seed in study.seeds] == ["syn.resample0", "syn.resample1"]
    assert study.dataset_of(study.data_name("syn", 1)) == ("syn", 1)
    assert study.dataset_of("syn") == ("syn", None)


def metrics(root, dataset, arm, seed) -> dict:
    return json.loads((root / f"results/metrics/{dataset}/{arm}/seed{seed}.json").read_text())


@pytest.mark.slow
def test_the_workflow_trains_scores_and_predicts_each_seed_on_its_own_resample(tmp_path):
    """The .test study with resampled signal and text data sets: at a seed every arm and the
    reference are scored on one test split, which differs between seeds; the reference is fitted
    per resample; a model's saved vocabulary (what predict encodes new records with) is its own
    resample's, fitted on that resample's train split."""
    config = tiny_config(tmp_path)
    sheet = tmp_path / "config" / "datasets.tsv"
    lines = sheet.read_text().splitlines()
    keep = [line for line in lines if not line.startswith("syn\t")]  # two data sets are enough
    sheet.write_text("\n".join(line.replace("\t{", "\t{resample: true, ") for line in keep) + "\n")
    config["arms"] = {arm: config["arms"][arm] for arm in ("full", "first")}
    config["predict"]["reviews_all"]["seed"] = 1
    (tmp_path / "config" / "config.yaml").write_text(json.dumps(config))
    snakemake(tmp_path, "results/verdict/verdict.md", "results/predictions/reviews_all.csv")
    for dataset in ("ucr", "reviews"):
        tested = [
            {arm: metrics(tmp_path, dataset, arm, seed)["records"] for arm in [*config["arms"], "reference"]}
            for seed in config["seeds"]
        ]
        for at_seed in tested:
            assert len({tuple(records) for records in at_seed.values()}) == 1  # every arm, one split
        assert tested[0]["full"] != tested[1]["full"]
        states = [np.load(tmp_path / f"results/references/{dataset}/seed{s}.npz") for s in config["seeds"]]
        assert any(not np.array_equal(states[0][k], states[1][k]) for k in states[0].files if k != "seed")
    vocab = {
        s: json.loads((tmp_path / f"results/ingested/reviews.resample{s}/meta.json").read_text())["vocab"]
        for s in config["seeds"]
    }
    assert vocab[0] != vocab[1]
    saved = torch.load(tmp_path / "results/models/reviews/first/seed1/model.pt", weights_only=False)
    assert saved["data"]["input"]["vocab"] == vocab[1]
    verdict = (tmp_path / "results/verdict/verdict.md").read_text()
    assert "(each on its own resample of" in verdict
    assert (tmp_path / "results/predictions/reviews_all.csv").stat().st_size > 0
