# The input and params functions of predict.smk's rules.


def get_predict_model(wildcards):
    job = PREDICT[wildcards.name]
    if job["arm"] == REFERENCE:
        return fill(rules.reference_metrics.output.state, dataset=job["dataset"], seed=job["seed"])
    return fill(rules.trained_model.output.model, **{k: job[k] for k in ("dataset", "arm", "seed")})


def get_predict_records(wildcards):
    """The new records' files, so that a changed file reruns its predictions."""
    spec = PREDICT[wildcards.name]["records"]
    return sorted(glob.glob(spec["path"])) if "path" in spec else []


def predict_spec(wildcards):
    return as_json(PREDICT[wildcards.name]["records"])


def predict_code(wildcards):
    job = PREDICT[wildcards.name]
    if job["arm"] == REFERENCE:
        return code("predict", reference=reference_of(job["dataset"]))
    return code("predict", **run_plugins(job["dataset"], job["arm"]))
