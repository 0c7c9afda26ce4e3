"""Baselines written as scikit-learn estimators (``fit`` / ``predict_proba``), so any metric or
benchmark loop can use them."""
from __future__ import annotations



import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

# Words and phrases typical of overclaiming health copy. Hand-picked for this project; a lexicon like
# this is what a moderator might start with, and the benchmark shows how far it gets.
CLAIM_LEXICON = (
    "cure", "cures", "cured", "miracle", "detox", "toxins", "100%", "no side effects", "natural",
    "big pharma", "they don't want you to know", "heals", "reverses", "reversed", "eliminates",
    "boosts immunity", "kills cancer", "guaranteed", "clinically proven", "doctors hate", "ditch",
    "throw away", "instead of", "poison", "cause autism", "causes autism", "wake up", "completely safe",
    "proven to", "works better than", "melts", "flushes", "banned", "suppressed",
)
NEGATION_CUES = ("not", "no evidence", "doesn't", "does not", "don't", "false", "myth", "debunk", "claims",
                 "warns", "warning", "fact check", "?")


class KeywordBaseline(ClassifierMixin, BaseEstimator):
    """Counts claim-lexicon hits, minus negation and reporting cues, squashed into a score.

    ``fit`` learns only the two weights and the bias with a logistic regression over the two counts, so
    the lexicon stays the model and the scale becomes a probability.
    """

    def __init__(self, lexicon=CLAIM_LEXICON, cues=NEGATION_CUES):
        self.lexicon = lexicon
        self.cues = cues

    def _features(self, texts) -> np.ndarray:
        rows = []
        for text in texts:
            lower = text.lower()
            rows.append([sum(lower.count(w) for w in self.lexicon), sum(lower.count(c) for c in self.cues)])
        return np.array(rows, dtype=float)

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(self._features(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.model_.predict_proba(self._features(X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def tfidf_logistic_regression(C: float = 10.0, seed: int = 0):
    """Word 1-2-gram TF-IDF with logistic regression."""
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, token_pattern=r"(?u)\b\w+\b|[!?%]"),
        LogisticRegression(C=C, max_iter=2000, random_state=seed),
    )


