"""What the study shows a person: the summary and overview tables (`aggregate`), the report's
figures (`figures`), job times and their stamps (`durations`), and study against study
(`comparisons`)."""
