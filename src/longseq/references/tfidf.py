"""TF-IDF of token 1-2-grams with logistic regression (scikit-learn): the standard strong
baseline for document classification, and for DNA read as k-mer words. Text read as bytes
(`units: bytes`) has no words to count: there it counts character 1-5-grams inside word
boundaries (`char_wb`), which see whole short words and the stems of longer ones; on IMDB as
bytes 2-6-grams were no better on valid (0.896 both, C = 10) and took 28 % longer to fit.

Its strength C is chosen on valid (fitted on train), then it is refitted on train and valid
with that choice; the vocabulary (n-grams seen in at least two documents) and the IDF weights
come from the documents it is fitted on.
"""

from __future__ import annotations

import numpy as np

from ..core.data import Split
from ..sources.text import BYTE_OFFSET

KIND = "tokens"
PROBABILITIES = True  # logistic regression: softmax of its scores
PRECISION = "float64"
STRENGTHS = (0.1, 1.0, 10.0, 100.0, 1000.0)  # C, the inverse of the L2 penalty, tried on valid


def _documents(split: Split, units: str = "words") -> list[str]:
    """Each record's token ids as a text of words ('12 7 431'); bytes as the text they spell
    (one character per byte: latin-1, so that a cut multi-byte character stays a byte)."""
    if units == "bytes":
        return [
            (np.asarray(record) - BYTE_OFFSET).astype(np.uint8).tobytes().decode("latin-1")
            for record in split
        ]
    return [" ".join(map(str, record.tolist())) for record in split]


def _vectorizer(vocabulary: dict | None = None, units: str = "words"):
    from sklearn.feature_extraction.text import TfidfVectorizer

    grams = {"analyzer": "char_wb", "ngram_range": (1, 5)} if units == "bytes" else {"ngram_range": (1, 2)}
    return TfidfVectorizer(
        token_pattern=r"\S+",
        min_df=2,
        sublinear_tf=True,
        lowercase=False,
        vocabulary=vocabulary,
        dtype=np.float32 if units == "bytes" else np.float64,
        **grams,
    )


def _classifier(strength: float, seed: int):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=strength, max_iter=2000, random_state=seed)


def fit(train: Split, valid: Split, seed: int, threads: int, meta: dict) -> tuple[dict, dict]:
    units = meta.get("units", "words")
    train_docs, valid_docs = _documents(train, units), _documents(valid, units)
    vectorizer = _vectorizer(units=units).fit(train_docs)
    x_train, x_valid = vectorizer.transform(train_docs), vectorizer.transform(valid_docs)
    valid_accuracy = {}
    for strength in STRENGTHS:
        model = _classifier(strength, seed).fit(x_train, train.labels)
        valid_accuracy[strength] = float((model.predict(x_valid) == valid.labels).mean())
    best = max(STRENGTHS, key=lambda c: (valid_accuracy[c], -c))  # ties: the stronger penalty
    vectorizer = _vectorizer(units=units).fit(train_docs + valid_docs)
    model = _classifier(best, seed).fit(
        vectorizer.transform(train_docs + valid_docs), np.concatenate([train.labels, valid.labels])
    )
    terms = np.empty(len(vectorizer.vocabulary_), dtype=object)
    for term, index in vectorizer.vocabulary_.items():
        terms[index] = term
    state = {
        "terms": terms.astype(str),
        "idf": vectorizer.idf_,
        "coef": model.coef_,
        "intercept": model.intercept_,
        "labels": model.classes_,
        "units": units,
    }
    info = {"C": best, "valid_accuracy": {str(c): a for c, a in valid_accuracy.items()}, "terms": len(terms)}
    return state, info


def decide(state: dict, split: Split) -> tuple[np.ndarray, np.ndarray]:
    units = str(state.get("units", "words"))
    vectorizer = _vectorizer({term: i for i, term in enumerate(state["terms"].tolist())}, units)
    vectorizer.idf_ = state["idf"]
    x = vectorizer.transform(_documents(split, units))
    scores = x @ np.atleast_2d(state["coef"]).T + state["intercept"]
    # per record: each n-gram's count and weight, then a product with every class's weights
    flops = 2 * np.diff(x.indptr) * scores.shape[1] + 2 * split.lengths
    return scores, flops.astype(np.float64)
