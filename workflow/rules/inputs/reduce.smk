# The input and params functions of reduce.smk's rules.


def get_chosen_reduction(wildcards):
    """A searched reduction takes its arm's chosen trial's reduce.* settings."""
    arm = STUDY.reductions[wildcards.reduction][0]
    if not STUDY.tunes_reduction(arm):
        return []
    return fill(rules.chosen_trial.output.chosen, dataset=data_set(wildcards), arm=arm)


def reduce_spec(wildcards):
    return as_json(STUDY.reduction(*STUDY.reductions[wildcards.reduction]))


def get_reduction_scaling_choice(wildcards):
    return scaling_choice_path(wildcards.data, STUDY.reductions[wildcards.reduction][0])
