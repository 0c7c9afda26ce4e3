"""Overlap between a training set and a test set: exact (normalised) and near duplicates."""
from __future__ import annotations

import re

import numpy as np
from typing import Sequence


def normalise(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def char_ngram_vectorizer():
    """The character 3-5-gram TF-IDF used for every near-duplicate check in the project."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=1, dtype=np.float32)


def overlap(train: Sequence[str], test: Sequence[str], threshold: float = 0.9) -> dict:
    """Count test items whose normalised text occurs in training, or whose character 3-5-gram TF-IDF
    cosine similarity to some training item is at least ``threshold``."""
    seen = {normalise(t) for t in train}
    exact = [i for i, t in enumerate(test) if normalise(t) in seen]
    vectorizer = char_ngram_vectorizer()
    train_m = vectorizer.fit_transform([normalise(t) for t in train])
    test_m = vectorizer.transform([normalise(t) for t in test])
    near = []
    for start in range(0, test_m.shape[0], 512):
        block = (test_m[start:start + 512] @ train_m.T).max(axis=1).toarray().ravel()
        near.extend(start + i for i, value in enumerate(block) if value >= threshold)
    both = sorted(set(exact) | set(near))
    return {"exact": len(exact), "near": len(set(near) - set(exact)), "total": len(both),
            "share": len(both) / max(1, len(test)), "threshold": threshold, "overlapping_indices": both}
