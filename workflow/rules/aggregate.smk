include: "inputs/aggregate.smk"


rule dataset_table:
    input:
        expand(rules.ingested_dataset.output[0], data=DATASETS),
    output:
        report(
            "results/datasets.csv",
            caption="../report/datasets.rst",
            category="Data sets",
        ),
    log:
        "logs/describe.log",
    benchmark:
        "results/benchmarks/dataset_table.tsv"
    conda:
        "../envs/longseq.yaml"
    params:
        code=step_code("describe"),
    shell:
        "longseq describe {input} --out {output} > {log} 2>&1"


rule summary:
    input:
        metrics=every_run(rules.test_metrics.output.metrics)
        + references(rules.reference_metrics.output.metrics),
        benchmarks=every_run(rules.trained_model.benchmark) + references(rules.reference_metrics.benchmark),
    output:
        summary=report(
            "results/summary.csv",
            caption="../report/summary.rst",
            category="Results",
        ),
        overview=report(
            "results/overview.csv",
            caption="../report/overview.rst",
            category="Results",
        ),
        figure=report(
            "results/accuracy_by_arm.png",
            caption="../report/accuracy_by_arm.rst",
            category="Results",
        ),
    log:
        "logs/aggregate.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    conda:
        "../envs/longseq.yaml"
    params:
        code=step_code("aggregate"),
    shell:
        "longseq aggregate {input.metrics} --train-benchmarks {input.benchmarks} --summary {output.summary} --overview {output.overview}"
        " --figure {output.figure} 2> {log}"


rule report_figures:
    input:
        metrics=every_run(rules.test_metrics.output.metrics),
        overview=rules.summary.output.overview,
        histories=every_run(rules.trained_model.output.history),
    output:
        table=report(
            "results/report/results_table.html",
            caption="../report/results_table.rst",
            category="Results",
        ),
        steps=report(
            "results/report/accuracy_vs_steps.png",
            caption="../report/accuracy_vs_steps.rst",
            category="Results",
        ),
        cost=report(
            "results/report/accuracy_vs_cost.png",
            caption="../report/accuracy_vs_cost.rst",
            category="Results",
        ),
        curves=report(
            "results/report/learning_curves.png",
            caption="../report/learning_curves.rst",
            category="Training",
        ),
    log:
        "logs/figures.log",
    benchmark:
        "results/benchmarks/report_figures.tsv"
    conda:
        "../envs/longseq.yaml"
    params:
        code=step_code("figures"),
    shell:
        "longseq figures --metrics {input.metrics} --overview {input.overview}"
        " --histories {input.histories} --table {output.table} --steps {output.steps}"
        " --cost {output.cost} --curves {output.curves} 2> {log}"


rule confusion_matrices:
    input:
        get_dataset_metrics,
    output:
        report(
            "results/report/confusion/{dataset}.png",
            caption="../report/confusion.rst",
            category="Confusion matrices",
            labels={"data set": "{dataset}"},
        ),
    log:
        "logs/confusion/{dataset}.log",
    conda:
        "../envs/longseq.yaml"
    params:
        code=step_code("confusion"),
    shell:
        "longseq confusion {input} --dataset {wildcards.dataset} --out {output} 2> {log}"


rule verdict:
    input:
        every_run(rules.test_metrics.output.metrics) + references(rules.reference_metrics.output.metrics),
    output:
        table=report("results/verdict/arms.csv", caption="../report/verdict_table.rst", category="Verdict"),
        text=report("results/verdict/verdict.md", caption="../report/verdict.rst", category="Verdict"),
        figure=report(
            "results/verdict/critical_difference.png",
            caption="../report/critical_difference.rst",
            category="Verdict",
        ),
        forest=report("results/verdict/forest.png", caption="../report/forest.rst", category="Verdict"),
        front="results/verdict/front.rst",  # the report's first page (workflow/report/workflow.rst)
    log:
        "logs/verdict.log",
    conda:
        "../envs/longseq.yaml"
    params:
        metric=config["verdict"]["metric"],
        alpha=config["verdict"]["alpha"],
        margin=config["verdict"]["margin"],
        code=step_code("verdict"),
    shell:
        "longseq verdict {input} --table {output.table} --text {output.text} --figure {output.figure}"
        " --front {output.front} --forest {output.forest}"
        " --metric {params.metric} --alpha {params.alpha} --margin {params.margin} > {log} 2>&1"
