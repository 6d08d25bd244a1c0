# The field's standard classifier on every data set, beside the arms (config 'reference:'):
# fitted on train and valid of the ingested data, test read once at the end.


include: "inputs/reference.smk"


rule reference_metrics:
    input:
        get_run_data,
    output:
        metrics="results/metrics/{dataset}/reference/seed{seed}.json",
        state="results/references/{dataset}/seed{seed}.npz",
    log:
        "logs/reference/{dataset}/seed{seed}.log",
    benchmark:
        "results/benchmarks/reference/{dataset}/reference/seed{seed}.tsv"
    conda:
        "../envs/longseq.yaml"
    threads: 1
    resources:
        disk_mb=input_disk_mb,
    params:
        method=reference_method,
        code=step_code("reference"),
        kernels=KERNELS,
    shell:
        "longseq reference --data {input} --method {params.method} --dataset {wildcards.dataset}"
        " --seed {wildcards.seed} --threads {threads} --out {output.metrics} --out-state {output.state} 2> {log}"
