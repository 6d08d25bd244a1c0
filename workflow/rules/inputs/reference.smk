# The input and params functions of reference.smk's rules.


def reference_method(wildcards):
    """The reference of the data set's kind (config 'reference:')."""
    return config["reference"][SHEET[wildcards.dataset]["kind"]]
