# The input and params functions of evaluate.smk's rules.


def arm_spec(wildcards):
    return as_json(config["arms"][wildcards.arm])


def evaluate_code(wildcards):
    return CODE["evaluate"](wildcards.dataset, wildcards.arm)
