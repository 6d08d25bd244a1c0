# The input and params functions of ingest.smk's rules.


def get_ingest_inputs(wildcards):
    """The files a data set is read from, so that a download comes first and an edited
    file reruns its data set (a glob counts every file it matches)."""
    spec = SHEET[data_set(wildcards)]
    files = [spec[k] for k in ("train_file", "test_file", "labels") if k in spec]
    if "path" in spec:
        files += [spec["path"]] if "fetch" in spec else sorted(glob.glob(spec["path"]))
    return files


def dataset_spec(wildcards):
    """The data set's sheet row only: training settings do not reach the ingest job."""
    return as_json(SHEET[data_set(wildcards)])


def resample_option(wildcards):
    resample = STUDY.dataset_of(wildcards.data)[1]
    return "" if resample is None else f"--resample {resample}"


def _fetched(output):
    for spec in SHEET.values():
        if spec.get("path") == output[0] and "fetch" in spec:
            return spec
    raise ValueError(f"no data set in {config['dataset_sheet']} fetches {output[0]}")


def fetch_recipe(wildcards, output):
    return _fetched(output)["fetch"]


def fetch_sha256(wildcards, output):
    return _fetched(output)["sha256"]
