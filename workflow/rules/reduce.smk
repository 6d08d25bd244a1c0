rule reduced_dataset:
    input:
        "results/ingested/{dataset}",
    output:
        directory("results/reduced/{dataset}/{arm}"),
    params:
        arm=reduce_spec,
    log:
        "logs/reduce/{dataset}/{arm}.log",
    shell:
        "longseq reduce --data {input} --arm {params.arm:q} --out {output} 2> {log}"
