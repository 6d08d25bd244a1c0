rule download_archive:
    output:
        "resources/{archive}",
    params:
        recipe=fetch_recipe,
        sha256=fetch_sha256,
    log:
        "logs/download/{archive}.log",
    shell:
        "longseq fetch --recipe {params.recipe:q} --sha256 {params.sha256} --out {output} 2> {log}"


rule ingested_dataset:
    input:
        ingest_inputs,
    output:
        directory("results/ingested/{dataset}"),
    params:
        spec=dataset_spec,
    log:
        "logs/ingest/{dataset}.log",
    shell:
        "longseq ingest --name {wildcards.dataset} --spec {params.spec:q} --out {output} 2> {log}"
