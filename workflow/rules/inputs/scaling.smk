# The input and params functions of scaling.smk's rule.


def probe_model_settings(wildcards):
    return as_json(STUDY.scaling_probe(wildcards.dataset)["model"])


def probe_train_settings(wildcards):
    return as_json(STUDY.scaling_probe(wildcards.dataset)["train"])
