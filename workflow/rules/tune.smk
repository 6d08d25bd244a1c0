# The search (config 'tune:'): every data set x arm gets the same number of trials, each its own
# job; the trial with the lowest valid loss is chosen, and the arm's seeds train with it.


include: "inputs/tune.smk"


rule trial_reduction:
    input:
        data=get_run_data,
        scaling=get_scaling_choice,
    output:
        directory("results/tuning/{dataset}/{arm}/trial{trial}/reduced"),
    log:
        "logs/reduce/{dataset}/{arm}/trial{trial}.log",
    conda:
        "../envs/longseq.yaml"
    resources:
        disk_mb=input_disk_mb,
    params:
        arm=trial_reduce_spec,
        scaling=scaling_option,
        code=step_code("reduce"),
    shell:
        "longseq reduce --data {input.data} --arm-spec {params.arm:q} {params.scaling} --out {output} 2> {log}"


rule trial_history:
    input:
        data=get_trial_data,
        encoder=get_trial_encoder,
        scaling=get_scaling_choice,
    output:
        history="results/tuning/{dataset}/{arm}/trial{trial}/history.json",
    log:
        "logs/train/{dataset}/{arm}/trial{trial}.log",
    benchmark:
        "results/benchmarks/tuning/{dataset}/{arm}/trial{trial}.tsv"
    conda:
        "../envs/longseq.yaml"
    threads: 1
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        disk_mb=input_disk_mb,
        gpu=1,
    params:
        model=trial_model_settings,
        train=trial_train_settings,
        seed=TUNE["train_seed"] if TUNE else 0,
        init=init_encoder_option,
        scaling=scaling_option,
        code=step_code("train"),
        kernels=KERNELS,
    shell:
        "longseq train --data {input.data} --model {params.model:q} --train {params.train:q}"
        " --seed {params.seed} --threads {threads} --no-progress {params.init} {params.scaling}"
        " --trial --out-history {output.history} 2> {log}"


rule chosen_trial:
    input:
        get_trial_histories,
    output:
        trials="results/tuning/{dataset}/{arm}/trials.csv",
        chosen="results/tuning/{dataset}/{arm}/chosen.json",
    log:
        "logs/choose/{dataset}/{arm}.log",
    conda:
        "../envs/longseq.yaml"
    params:
        space=search_space,
        trials=trial_records,
        code=step_code("choose"),
    shell:
        "longseq choose --space {params.space:q} --trials {params.trials:q} --histories {input}"
        " --out-trials {output.trials} --out-chosen {output.chosen} 2> {log}"


rule tuning_overview:
    input:
        chosen=expand(rules.chosen_trial.output.chosen, dataset=DATASETS, arm=ARMS),
        trials=expand(rules.chosen_trial.output.trials, dataset=DATASETS, arm=ARMS),
    output:
        table=report("results/tuning/chosen.csv", caption="../report/tuning_table.rst", category="Search"),
        figure=report("results/report/tuning.png", caption="../report/tuning.rst", category="Search"),
    log:
        "logs/tuning/overview.log",
    conda:
        "../envs/longseq.yaml"
    params:
        code=step_code("tuning"),
    shell:
        "longseq tuning --chosen {input.chosen} --trials {input.trials} --table {output.table}"
        " --figure {output.figure} 2> {log}"
