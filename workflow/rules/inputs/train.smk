# The input and params functions of train.smk's rules.


def get_chosen(wildcards):
    """With a search, the final runs of an arm take its chosen trial's settings."""
    return (
        fill(rules.chosen_trial.output.chosen, dataset=wildcards.dataset, arm=wildcards.arm) if TUNE else []
    )


def encoder_model_settings(wildcards):
    return as_json(STUDY.encoder_settings(data_set(wildcards)))


def pretrain_settings(wildcards):
    return as_json(PRETRAIN[wildcards.pretrain])


def model_settings(wildcards):
    return as_json(STUDY.settings("model", wildcards.dataset, wildcards.arm))


def train_settings(wildcards):
    return as_json(STUDY.settings("train", wildcards.dataset, wildcards.arm))


def checkpoint_path(wildcards):
    """Not an output: Snakemake would delete it before a retry, which must resume from it."""
    return f"results/checkpoints/{wildcards.dataset}/{wildcards.arm}/seed{wildcards.seed}.pt"
