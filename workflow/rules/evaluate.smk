include: "inputs/evaluate.smk"


rule test_metrics:
    input:
        data=get_reduced_data,
        model=rules.trained_model.output.model,
        history=rules.trained_model.output.history,
    output:
        metrics="results/metrics/{dataset}/{arm}/seed{seed}.json",
        card="results/models/{dataset}/{arm}/seed{seed}/card.json",
    log:
        "logs/evaluate/{dataset}/{arm}/seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate/{dataset}/{arm}/seed{seed}.tsv"
    conda:
        "../envs/longseq.yaml"
    threads: 1
    resources:
        disk_mb=input_disk_mb,
    params:
        arm=arm_spec,
        code=step_code("evaluate"),
        kernels=KERNELS,
    shell:
        "longseq evaluate --data {input.data} --model {input.model} --history {input.history}"
        " --dataset {wildcards.dataset} --arm {wildcards.arm} --arm-spec {params.arm:q} --seed {wildcards.seed}"
        " --threads {threads} --out {output.metrics} --out-card {output.card} 2> {log}"
