# The input and params functions of scaling.smk's rule.


def probe_model_settings(wildcards):
    return as_json(STUDY.scaling_probe(data_set(wildcards))["model"])


def probe_train_settings(wildcards):
    return as_json(STUDY.scaling_probe(data_set(wildcards))["train"])
