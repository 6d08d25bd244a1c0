rule reduced_dataset:
    input:
        "results/ingested/{dataset}",
    output:
        directory("results/reduced/{dataset}/{arm}"),
    log:
        "logs/reduce/{dataset}/{arm}.log",
    benchmark:
        "results/benchmarks/reduce/{dataset}/{arm}.tsv"
    conda:
        "../envs/longseq.yaml"
    params:
        arm=reduce_spec,
        code=CODE["reduce"],
    shell:
        "longseq reduce --data {input} --arm {params.arm:q} --out {output} 2> {log}"
