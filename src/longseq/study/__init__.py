"""The study file as the workflow needs it: its data sets, arms and seeds, every run's merged
settings, its reductions and its search's trials, with every cross-check that can fail before
a job runs. No torch here: the workflow builds one `Study` when it is parsed, and the tests
build it directly (tests/test_study.py)."""

from __future__ import annotations

from .. import reducers
from ..core.settings import (
    BUDGET_KEYS,
    PRETRAIN_DEFAULTS,
    ModelConfig,
    TrainConfig,
    as_dict,
    check_pretraining,
    check_run,
)
from ..references import ARM as REFERENCE
from ..steps import tuning

RESAMPLE = ".resample"  # acsf1.resample3: seed 3's resample of acsf1 (names hold no dots)


def _flat(value) -> str:
    return "+".join(map(str, value)) if isinstance(value, list) else str(value)


class Study:
    def __init__(self, config: dict, sheet: dict[str, dict]) -> None:
        self.config, self.sheet = config, sheet
        self.datasets, self.arms = list(sheet), list(config["arms"])
        self.seeds = [int(s) for s in config["seeds"]]
        self.pretrain = config.get("pretrain", {})
        self.tune = config.get("tune")
        self.predict = config.get("predict", {})  # name -> which trained run labels which new records
        self._check_names()
        self._check_resamples()
        self._check_arms()
        self._check_runs()
        self.trials, self.spaces, self.untuned = {}, {}, {}  # per arm; untuned per (data set, arm)
        if self.tune:
            self._draw_search()
        # reduction name -> an (arm, data set) that uses it (the reduce job reads its spec)
        self.reductions = {self.reduction_name(a, d): (a, d) for d in self.datasets for a in self.arms}

    # ------------------------------------------------------------ the checks, before any job
    def _check_names(self) -> None:
        if REFERENCE in self.arms:
            raise ValueError(
                f"config arms: {REFERENCE!r} names the study's reference runs; give the arm another name"
            )
        for name in self.config.get("datasets", {}):
            if name not in self.sheet:
                raise ValueError(
                    f"config 'datasets:' has settings for {name!r}, which is not a row of "
                    f"{self.config['dataset_sheet']} (it has {self.datasets})"
                )
        for name, job in self.predict.items():
            if (
                job["dataset"] not in self.sheet
                or job["arm"] not in [*self.arms, REFERENCE]
                or int(job["seed"]) not in self.seeds
            ):
                raise ValueError(
                    f"predict {name!r}: dataset {job['dataset']!r}, arm {job['arm']!r}, seed {job['seed']} "
                    f"is not a run of this study (data sets {self.datasets}, arms {self.arms}, seeds {self.seeds})"
                )

    def _check_resamples(self) -> None:
        resampled = [d for d in self.datasets if self.resampled(d)]
        if resampled and self.tune:
            raise ValueError(
                f"tune: data sets {resampled} have resampled splits, where one seed's test records are "
                "another's train and valid records, so no search on one split is blind to every test "
                "split; search on a copy of the data set without resample, or leave tune out"
            )

    def _check_arms(self) -> None:
        for name, settings in self.pretrain.items():
            try:
                check_pretraining(settings)
            except ValueError as exc:
                raise ValueError(f"pretrain {name!r}: {exc}") from None
        for arm, spec in self.config["arms"].items():
            reducers.check_arm(spec, f"config arm {arm!r}")
            if "pretrain" in spec and spec["pretrain"] not in self.pretrain:
                raise ValueError(
                    f"arm {arm!r} uses pretrain {spec['pretrain']!r}, which the config's 'pretrain:' "
                    f"section does not define (it has {sorted(self.pretrain)})"
                )
            budget = sorted(set(spec.get("train", {})) & set(BUDGET_KEYS))
            if budget:
                raise ValueError(
                    f"arm {arm!r} sets {budget} in its train settings; the budget is the same for every "
                    "arm of a data set, so set it study-wide ('train:') or per data set ('datasets:')"
                )

    def _check_runs(self) -> None:
        for dataset in self.datasets:
            for arm in self.arms:
                try:
                    check_run(
                        ModelConfig.from_dict(self.settings("model", dataset, arm)),
                        TrainConfig.from_dict(self.settings("train", dataset, arm)),
                    )
                except ValueError as exc:
                    raise ValueError(f"data set {dataset!r}, arm {arm!r}: {exc}") from None
                self._check_pretrained(dataset, arm)

    def _check_pretrained(self, dataset: str, arm: str) -> None:
        """A pretraining's encoder is the arm's model: a learned summarizer's LSTM reads summaries,
        a plain LSTM's reads steps."""
        name = self.config["arms"][arm].get("pretrain")
        if name is None:
            return
        kind = self.settings("model", dataset, arm).get("type", ModelConfig.type)
        wanted = "conv_lstm" if kind == "conv_lstm" else "lstm"
        if self.encoder_type(name) != wanted:
            raise ValueError(
                f"data set {dataset!r}, arm {arm!r}: model type {kind!r} starts from pretrain {name!r}, "
                f"whose encoder is {self.encoder_type(name)!r}; set 'encoder: {wanted}' in that "
                "pretraining (or give this arm a pretraining of its own)"
            )

    def encoder_type(self, pretrain: str) -> str:
        """The model type a named pretraining trains (its `encoder`)."""
        return {**PRETRAIN_DEFAULTS, **self.pretrain[pretrain]}["encoder"]

    def _draw_search(self) -> None:
        """Each arm's space and trials (the same draws for every data set), checked: trials
        train at a seed no final run uses, and neither the budget nor instance scaling (which
        scales records before they are reduced) is searched."""
        tune = self.tune
        if tune["train_seed"] in self.seeds:
            raise ValueError(
                f"tune: train_seed {tune['train_seed']} is also one of the study's seeds {self.seeds}; trials "
                "must train at a seed no final run uses, or that run repeats the trial chosen on valid"
            )
        for arm in self.arms:
            space = self.spaces[arm] = tuning.arm_space(tune, arm, self.model_options(arm))
            searched = {"instance", "auto"} & set(getattr(space.get("model.scaling"), "choices", ()))
            if searched:
                raise ValueError(
                    f"tune: arm {arm!r} searches model.scaling over {sorted(searched)}, which decide how records "
                    "are scaled before they are reduced; give that scaling an arm of its own instead"
                )
            budget = sorted({n.split(".", 1)[1] for n in space if n.startswith("train.")} & set(BUDGET_KEYS))
            if budget:
                raise ValueError(
                    f"tune: {budget} is the budget, the same for every trial and arm; not a setting to search"
                )
            self.trials[arm] = tuning.draw_trials(tune, arm, self.model_options(arm))
            for dataset in self.datasets:
                for number, params in enumerate(self.trials[arm]):
                    try:
                        merged = self.merged(dataset, arm, params)
                        if number == 0:
                            self.untuned[dataset, arm] = tuning.untuned_values(space, merged)
                    except ValueError as exc:
                        raise ValueError(
                            f"data set {dataset!r}, arm {arm!r}, trial {number}: {exc}"
                        ) from None

    # ------------------------------------------------------------ the data a run reads
    def resampled(self, dataset: str) -> bool:
        """Each seed draws its own split of the pooled records (the sheet's `resample: true`)."""
        return bool(self.sheet[dataset].get("resample"))

    def data_name(self, dataset: str, seed: int | str) -> str:
        """The ingested data a run at `seed` reads (a folder of results/ingested): its data
        set's, or with resampled splits the seed's own resample of it."""
        return f"{dataset}{RESAMPLE}{seed}" if self.resampled(dataset) else dataset

    @staticmethod
    def dataset_of(data: str) -> tuple[str, int | None]:
        """`data_name` undone: the data set, and the resample or None."""
        dataset, _, resample = data.partition(RESAMPLE)
        return dataset, int(resample) if resample else None

    # ------------------------------------------------------------ settings
    def _shared(self, section: str, dataset: str) -> dict:
        """Study-wide settings, overridden per data set: what every arm of the data set starts from."""
        return {
            **self.config.get(section, {}),
            **self.config.get("datasets", {}).get(dataset, {}).get(section, {}),
        }

    def settings(self, section: str, dataset: str, arm: str) -> dict:
        """The data set's shared settings, overridden per arm. Model options that an arm's type
        does not take are dropped unless the arm sets them itself (then they are refused)."""
        own = self.config["arms"][arm].get(section, {})
        merged = {**self._shared(section, dataset), **own}
        if section != "model":
            return merged
        if merged.get("scaling") == "auto" and self.sheet[dataset]["kind"] == "tokens":
            merged = {k: v for k, v in merged.items() if k != "scaling"}  # tokens have no scaling to choose
        return ModelConfig.inherit(merged, own)

    def auto_scaled(self, dataset: str, arm: str) -> bool:
        """The arm's scaling is the data set's choice on valid (`scaling: auto`, longseq.steps.choose_scaling)."""
        return self.settings("model", dataset, arm).get("scaling") == "auto"

    def scaling_probe(self, dataset: str) -> dict:
        """What the scaling choice of a data set starts from: its shared model and train settings."""
        return {"model": self._shared("model", dataset), "train": self._shared("train", dataset)}

    def model_type(self, dataset: str, arm: str) -> str:
        return self.settings("model", dataset, arm).get("type", ModelConfig.type)

    def model_options(self, arm: str) -> set[str]:
        """The model settings the arm's type takes (what a search may vary)."""
        return ModelConfig.takes(self.model_type(self.datasets[0], arm))

    def merged(self, dataset: str, arm: str, params: dict) -> dict:
        """Every setting of one run with a trial's overrides (the dataclass defaults filled in)."""
        model = tuning.apply(self.settings("model", dataset, arm), params, "model")
        train = tuning.apply(self.settings("train", dataset, arm), params, "train")
        return {
            "model": as_dict(ModelConfig.from_dict(model)),
            "train": as_dict(TrainConfig.from_dict(train)),
            "reduce": tuning.apply(self.config["arms"][arm], params, "reduce"),
        }

    def encoder_settings(self, dataset: str) -> dict:
        """A pretrained encoder is shared by the arms of a data set: study and data set sizes only."""
        return self._shared("model", dataset)

    # ------------------------------------------------------------ reductions and the search
    def tunes_reduction(self, arm: str) -> bool:
        return any(name.startswith("reduce.") for name in self.spaces.get(arm, {}))

    def reduction(self, arm: str, dataset: str) -> dict:
        """The arm's reduction only: editing its model, training or pretraining must not re-reduce.
        With `scaling: instance` each record is scaled by its own statistics before it is reduced
        (a view keeps its record's scaling), so that is part of the reduction; with `auto`, the
        data set's choice decides whether it is."""
        spec = {k: v for k, v in self.config["arms"][arm].items() if k not in ("model", "train", "pretrain")}
        scaling = self.settings("model", dataset, arm).get("scaling")
        if scaling in ("instance", "auto"):
            spec["model"] = {"scaling": scaling}
        return spec

    def reduction_name(self, arm: str, dataset: str) -> str:
        """Arms whose reductions are identical share one reduced folder, named after what it holds
        (every 'reduce: full' arm reads results/reduced/<ds>/full); an arm whose reduction is
        searched has its own, since its chosen trial is its own."""
        spec = self.reduction(arm, dataset)
        scaled = f"_{spec['model']['scaling']}" if "model" in spec else ""
        if self.tunes_reduction(arm):
            return f"{arm}-tuned{scaled}"
        options = [f"{k}-{_flat(v)}" for k, v in sorted(spec.items()) if k not in ("reduce", "model")]
        return "_".join([spec["reduce"]] + options) + scaled

    def trial_settings(self, section: str, dataset: str, arm: str, trial: int) -> dict:
        return tuning.apply(self.settings(section, dataset, arm), self.trials[arm][trial], section)

    def trial_records(self, dataset: str, arm: str) -> list[dict]:
        """Every trial's values of the searched settings, trial 0's read from the untuned run."""
        return [self.untuned[dataset, arm]] + self.trials[arm][1:]
