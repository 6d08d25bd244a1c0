rule reduced_dataset:
    input:
        data="results/ingested/{dataset}",
        tuned=chosen_reduction,
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
        tuned=tuned_option,
        code=CODE["reduce"],
    shell:
        "longseq reduce --data {input.data} --arm {params.arm:q} {params.tuned} --out {output} 2> {log}"
