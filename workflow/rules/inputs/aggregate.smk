# The input and params functions of aggregate.smk's rules.


def get_dataset_metrics(wildcards):
    return every_run(METRICS, [wildcards.dataset]) + references(REFERENCE_METRICS, [wildcards.dataset])
