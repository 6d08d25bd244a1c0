# The input and params functions of predict.smk's rules.


def get_predict_model(wildcards):
    job = PREDICT[wildcards.name]
    if job["arm"] == REFERENCE:
        return f"results/references/{job['dataset']}/seed{job['seed']}.npz"
    return f"results/models/{job['dataset']}/{job['arm']}/seed{job['seed']}/model.pt"


def get_predict_records(wildcards):
    """The new records' files, so that a changed file reruns its predictions."""
    spec = PREDICT[wildcards.name]["records"]
    return sorted(glob.glob(spec["path"])) if "path" in spec else []


def predict_spec(wildcards):
    return as_json(PREDICT[wildcards.name]["records"])


def predict_code(wildcards):
    job = PREDICT[wildcards.name]
    if job["arm"] == REFERENCE:
        return step_digest(PACKAGE, "predict.py", "references/__init__.py")
    return CODE["predict"](job["dataset"], job["arm"])
