include: "inputs/reduce.smk"


rule reduced_dataset:
    input:
        data=rules.ingested_dataset.output[0],
        tuned=get_chosen_reduction,
        scaling=get_reduction_scaling_choice,
    output:
        directory("results/reduced/{data}/{reduction}"),
    log:
        "logs/reduce/{data}/{reduction}.log",
    benchmark:
        "results/benchmarks/reduce/{data}/{reduction}.tsv"
    conda:
        "../envs/longseq.yaml"
    resources:
        disk_mb=input_disk_mb,
    params:
        arm=reduce_spec,
        tuned=tuned_option,
        scaling=scaling_option,
        code=step_code("reduce"),
    shell:
        "longseq reduce --data {input.data} --arm-spec {params.arm:q} {params.tuned} {params.scaling}"
        " --out {output} 2> {log}"
