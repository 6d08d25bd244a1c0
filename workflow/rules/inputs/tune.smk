# The input and params functions of tune.smk's rules.

from longseq.steps import tuning


def _trial(wildcards):
    return STUDY.trials[wildcards.arm][int(wildcards.trial)]


def trial_reduce_spec(wildcards):
    spec = STUDY.reduction(wildcards.arm, wildcards.dataset)
    return as_json(tuning.apply(spec, _trial(wildcards), "reduce"))


def get_trial_data(wildcards):
    """A trial reads the arm's own reduction unless the search varies it."""
    if STUDY.tunes_reduction(wildcards.arm):
        return fill(rules.trial_reduction.output[0], **wildcards)
    return get_reduced_data(wildcards)


def get_trial_encoder(wildcards):
    """Trials start from the encoder pretrained at the trials' seed."""
    return encoder_path(wildcards.dataset, wildcards.arm, TUNE["train_seed"])


def trial_model_settings(wildcards):
    return as_json(STUDY.trial_settings("model", wildcards.dataset, wildcards.arm, int(wildcards.trial)))


def trial_train_settings(wildcards):
    return as_json(STUDY.trial_settings("train", wildcards.dataset, wildcards.arm, int(wildcards.trial)))


def get_trial_histories(wildcards):
    return expand(
        rules.trial_history.output.history,
        dataset=wildcards.dataset,
        arm=wildcards.arm,
        trial=range(len(STUDY.trials[wildcards.arm])),
    )


def search_space(wildcards):
    return as_json(tuning.arm_space_config(TUNE, wildcards.arm, STUDY.model_options(wildcards.arm)))


def trial_records(wildcards):
    return as_json(STUDY.trial_records(wildcards.dataset, wildcards.arm))
