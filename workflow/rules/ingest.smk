include: "inputs/ingest.smk"


rule download_archive:
    output:
        "resources/{archive}",
    log:
        "logs/fetch/{archive}.log",
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
        directory("results/ingested/{data}"),
    log:
        "logs/ingest/{data}.log",
    benchmark:
        "results/benchmarks/ingest/{data}.tsv"
    conda:
        "../envs/longseq.yaml"
    params:
        name=data_set,
        spec=dataset_spec,
        resample=resample_option,
        code=step_code("ingest"),
    shell:
        "longseq ingest --name {params.name} --spec {params.spec:q} {params.resample} --out {output} 2> {log}"
