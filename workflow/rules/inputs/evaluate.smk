# The input and params functions of evaluate.smk's rules.


def arm_spec(wildcards):
    return as_json(config["arms"][wildcards.arm])
