# Use the winner: a trained run labels new records (config 'predict:'), which go through the
# steps its training data went through, with everything fitted taken from that data.


include: "inputs/predict.smk"


rule predictions:
    input:
        model=get_predict_model,
        records=get_predict_records,
    output:
        "results/predictions/{name}.csv",
    log:
        "logs/predict/{name}.log",
    conda:
        "../envs/longseq.yaml"
    threads: 1
    params:
        spec=predict_spec,
        code=predict_code,
        kernels=KERNELS,
    shell:
        "longseq predict --model {input.model} --spec {params.spec:q} --threads {threads}"
        " --out {output} 2> {log}"
