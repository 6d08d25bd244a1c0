rule dataset_table:
    input:
        expand("results/ingested/{dataset}", dataset=DATASETS),
    output:
        report(
            "results/datasets.csv",
            caption="../report/datasets.rst",
            category="Data sets",
        ),
    log:
        "logs/dataset_table.log",
    shell:
        "longseq describe {input} --out {output} > {log} 2>&1"


rule summary:
    input:
        all_metrics(),
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
    shell:
        "longseq aggregate {input} --summary {output.summary} --overview {output.overview}"
        " --figure {output.figure} 2> {log}"
