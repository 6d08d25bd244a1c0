include: "inputs/ingest.smk"


rule download_archive:
    output:
        "resources/{archive}",
    log:
        "logs/download/{archive}.log",
    conda:
        "../envs/longseq.yaml"
    params:
        recipe=fetch_recipe,
        sha256=fetch_sha256,
    shell:
        "longseq fetch --recipe {params.recipe:q} --sha256 {params.sha256} --out {output} 2> {log}"


rule ingested_dataset:
    input:
        get_ingest_inputs,
    output:
        directory("results/ingested/{dataset}"),
    log:
        "logs/ingest/{dataset}.log",
    benchmark:
        "results/benchmarks/ingest/{dataset}.tsv"
    conda:
        "../envs/longseq.yaml"
    params:
        spec=dataset_spec,
        code=ingest_code,
    shell:
        "longseq ingest --name {wildcards.dataset} --spec {params.spec:q} --out {output} 2> {log}"
