# The input and params functions of aggregate.smk's rules.


def get_dataset_metrics(wildcards):
    dataset = [wildcards.dataset]
    return every_run(rules.test_metrics.output.metrics, dataset) + references(
        rules.reference_metrics.output.metrics, dataset
    )
