"""The study's cross-checks, each refused before any job with what to change (they ran only
inside the workflow's parse before; now pytest reaches them), and its reductions' names."""

import pytest
import yaml
from conftest import REPO

from longseq.study import Study

SHEET = {"syn": {"kind": "tokens", "reader": "synthetic"}, "ucr": {"kind": "signal", "reader": "ucr"}}


def study(**changes) -> dict:
    config = {
        "seeds": [0, 1],
        "dataset_sheet": "sheet.tsv",
        "arms": {"full": {"reduce": "full"}, "first": {"reduce": "truncate", "keep": "first", "length": 10}},
    }
    return {**config, **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"arms": {"reference": {"reduce": "full"}}}, "'reference' names the study's reference runs"),
        (
            {"datasets": {"acsf1": {"train": {"lr": 0.1}}}},
            "'datasets:' has settings for 'acsf1', which is not a row",
        ),
        (
            {"arms": {"a": {"reduce": "full", "train": {"max_updates": 5}}}},
            "the budget is the same for every arm",
        ),
        (
            {"arms": {"a": {"reduce": "full", "pretrain": "ae"}}},
            "uses pretrain 'ae', which the config's 'pretrain:'",
        ),
        (
            {"tune": {"trials": 2, "seed": 0, "train_seed": 1, "space": {"train": {"lr": [0.003]}}}},
            "train_seed 1 is also one",
        ),
        (
            {"predict": {"p": {"dataset": "syn", "arm": "full", "seed": 7, "records": {"reader": "text"}}}},
            "is not a run of this study",
        ),
        (
            {
                "arms": {
                    "a": {
                        "reduce": "full",
                        "model": {"type": "conv_lstm"},
                        "train": {"mode": "tbptt", "k1": 102},
                    }
                }
            },
            "data set 'syn', arm 'a': tbptt: k1 (102) and k2 (102) count raw steps and must be multiples",
        ),
        (
            {
                "pretrain": {"nt": {"objective": "next_token"}},
                "arms": {"a": {"reduce": "full", "model": {"type": "conv_lstm"}, "pretrain": "nt"}},
            },
            "model type 'conv_lstm' starts from pretrain 'nt', whose encoder is 'lstm'; set 'encoder: conv_lstm'",
        ),
        (
            {
                "pretrain": {"nt": {"objective": "next_token", "encoder": "conv_lstm"}},
                "arms": {"a": {"reduce": "full", "pretrain": "nt"}},
            },
            "model type 'lstm' starts from pretrain 'nt', whose encoder is 'conv_lstm'; set 'encoder: lstm'",
        ),
        (
            {
                "pretrain": {"ae": {"encoder": "conv_lstm"}},
                "arms": {"a": {"reduce": "full", "model": {"type": "conv_lstm"}, "pretrain": "ae"}},
            },
            "encoder conv_lstm is pretrained by objective next_token only",
        ),
    ],
)
def test_a_study_that_cannot_run_is_refused_with_what_to_change(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Study(study(**changes), SHEET)


def test_arms_that_reduce_alike_share_a_reduction_and_instance_scaling_names_its_own():
    arms = {
        "full": {"reduce": "full"},
        "learned": {"reduce": "full", "model": {"type": "conv_lstm"}},
        "scaled": {"reduce": "full", "model": {"scaling": "instance"}},
        "first": {"reduce": "truncate", "keep": "first", "length": 10},
    }
    s = Study(study(arms=arms), SHEET)
    names = {arm: s.reduction_name(arm, "ucr") for arm in arms}
    assert names == {
        "full": "full",
        "learned": "full",
        "scaled": "full_instance",
        "first": "truncate_keep-first_length-10",
    }
    assert s.reductions["full"][0] in ("full", "learned")  # any arm that reads it


def test_the_default_study_parses_and_its_settings_are_the_defaults():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.setdefault("reproducible", "native")
    sheet = {name: {"kind": "signal"} for name in ("acsf1", "imdb")}
    s = Study(config, sheet)
    merged = s.merged("imdb", "full", {})
    assert merged["train"]["max_updates"] == 600 and merged["model"]["dropout"] == 0.1
    assert s.merged("acsf1", "full", {})["train"]["max_updates"] == 1500  # its few records
