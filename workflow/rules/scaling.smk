# A signal data set's scaling, chosen on valid once for every arm with `scaling: auto`
# (longseq.steps.choose_scaling): a short probe per candidate on the train split, the lowest valid loss wins.


include: "inputs/scaling.smk"


rule chosen_scaling:
    input:
        rules.ingested_dataset.output[0],
    output:
        "results/scaling/{data}.json",
    log:
        "logs/choose-scaling/{data}.log",
    benchmark:
        "results/benchmarks/scaling/{data}.tsv"
    conda:
        "../envs/longseq.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=train_runtime,
        disk_mb=input_disk_mb,
        gpu=1,
    params:
        model=probe_model_settings,
        train=probe_train_settings,
        code=step_code("choose-scaling"),
        kernels=KERNELS,
    shell:
        "longseq choose-scaling --data {input} --model {params.model:q} --train {params.train:q}"
        " --threads {threads} --out {output} 2> {log}"
