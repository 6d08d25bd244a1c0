include: "inputs/train.smk"


rule pretrained_encoder:
    input:
        rules.ingested_dataset.output[0],
    output:
        encoder="results/pretrained/{data}/{pretrain}/seed{seed}/encoder.pt",
        history="results/pretrained/{data}/{pretrain}/seed{seed}/history.json",
    log:
        "logs/pretrain/{data}/{pretrain}/seed{seed}.log",
    benchmark:
        "results/benchmarks/pretrain/{data}/{pretrain}/seed{seed}.tsv"
    conda:
        "../envs/longseq.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=train_runtime,
        disk_mb=input_disk_mb,
        gpu=1,
    params:
        model=encoder_model_settings,
        pretrain=pretrain_settings,
        code=step_code("pretrain"),
        kernels=KERNELS,
    shell:
        "longseq pretrain --data {input} --model {params.model:q} --pretrain {params.pretrain:q}"
        " --seed {wildcards.seed} --threads {threads} --out-encoder {output.encoder} --out-history {output.history} 2> {log}"


rule trained_model:
    input:
        data=get_reduced_data,
        encoder=get_encoder,
        tuned=get_chosen,
        scaling=get_scaling_choice,
    output:
        model="results/models/{dataset}/{arm}/seed{seed}/model.pt",
        history="results/models/{dataset}/{arm}/seed{seed}/history.json",
    log:
        "logs/train/{dataset}/{arm}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{arm}/seed{seed}.tsv"
    conda:
        "../envs/longseq.yaml"
    threads: 1
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        disk_mb=input_disk_mb,
        gpu=1,
    params:
        model=model_settings,
        train=train_settings,
        checkpoint=checkpoint_path,
        init=init_encoder_option,
        tuned=tuned_option,
        scaling=scaling_option,
        code=step_code("train"),
        kernels=KERNELS,
    shell:
        "longseq train --data {input.data} --model {params.model:q} --train {params.train:q}"
        " --seed {wildcards.seed} --threads {threads} --no-progress"
        " --checkpoint {params.checkpoint} {params.init} {params.tuned} {params.scaling}"
        " --out-model {output.model} --out-history {output.history} 2> {log}"
