# The input and params functions of reference.smk's rules.


def reference_method(wildcards):
    return reference_of(wildcards.dataset)
