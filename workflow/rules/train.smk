rule trained_model:
    input:
        "results/reduced/{dataset}/{arm}",
    output:
        model="results/models/{dataset}/{arm}/seed{seed}/model.pt",
        history="results/models/{dataset}/{arm}/seed{seed}/history.json",
    params:
        model=model_settings,
        train=train_settings,
        checkpoint=checkpoint_path,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    log:
        "logs/train/{dataset}/{arm}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{arm}/seed{seed}.tsv"
    shell:
        "longseq train --data {input} --model {params.model:q} --train {params.train:q}"
        " --seed {wildcards.seed} --threads {threads} --no-progress"
        " --checkpoint {params.checkpoint}"
        " --out-model {output.model} --out-history {output.history} 2> {log}"
