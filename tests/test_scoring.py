import numpy as np

from overclaim.scoring import plan_documents, score_documents


class CountingBackend:
    """Scores each input by its token count, so results are predictable."""

    def __init__(self):
        self.calls = 0

    def margins(self, encoded):
        self.calls += 1
        return encoded["attention_mask"].sum(axis=1).astype(np.float32)


def test_short_text_is_one_window_scored_as_written(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = "Kratom is safe. It has no side effects."
    planned = plan_documents([text], tok, max_length=64)
    plans, inputs = planned.plans, planned.texts
    assert [text[w.start:w.end] for w in plans[0].windows] == [text]
    assert len(plans[0].sentences) == 2
    assert text in inputs


def test_long_text_is_windowed_not_truncated(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = " ".join(f"Sentence number {i} talks about garlic and colds." for i in range(200))
    plans = plan_documents([text], tok, max_length=64).plans
    windows = plans[0].windows
    assert len(windows) > 10
    assert windows[0].start == 0 and windows[-1].end == len(text)
    for w in windows:
        assert len(tok(text[w.start:w.end])["input_ids"]) <= 64


def test_sentence_longer_than_window_is_cut_by_tokens(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = "word " * 500
    plans = plan_documents([text], tok, max_length=32).plans
    spans = plans[0].sentences
    assert len(spans) >= 500 // 30
    assert spans[0].start == 0 and spans[-1].end == len(text.rstrip())


def test_inputs_shared_across_documents_are_scored_once(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    backend = CountingBackend()
    docs = score_documents(["Same text here.", "Same text here."], tok, backend, max_length=64, batch_size=8)
    assert backend.calls == 1
    assert docs[0].margin == docs[1].margin


class ShapeRecordingBackend(CountingBackend):
    def __init__(self):
        super().__init__()
        self.shapes = []

    def margins(self, encoded):
        self.shapes.append(encoded["input_ids"].shape)
        return super().margins(encoded)


def test_batches_are_bounded_by_count_and_padded_size(tiny_model_dir, monkeypatch):
    from transformers import AutoTokenizer

    from overclaim import scoring

    monkeypatch.setattr(scoring, "MAX_BATCH_TOKENS", 256)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = [f"Post {i} about elderberry syrup." for i in range(20)] + ["ginger " * 50 + "tea" for _ in range(6)]
    texts[20:] = [t + f" number {i}" for i, t in enumerate(texts[20:])]
    backend = ShapeRecordingBackend()
    margins, _ = scoring.score_texts(texts, tok, backend, max_length=64, batch_size=8)
    assert all(rows <= 8 and rows * width <= 256 for rows, width in backend.shapes)
    assert sum(rows for rows, _ in backend.shapes) == len(texts)
    # each text's margin is its own token count: results land in input order whatever the batching
    assert margins.tolist() == [len(tok(t, truncation=True, max_length=64)["input_ids"]) for t in texts]


def test_scores_do_not_depend_on_batch_company(tiny_model_dir):
    from overclaim import Classifier

    clf = Classifier.load(tiny_model_dir, backend="torch")
    texts = ["Short one.", "A somewhat longer post about turmeric and joint pain, with details.",
             "Medium length post about sleep."]
    together = clf.predict_proba(texts, batch_size=3)
    alone = [clf.predict_proba([t])[0] for t in texts]
    assert np.allclose(together, alone, atol=1e-5)


def test_batching_keeps_short_inputs_out_of_long_batches():
    from overclaim.scoring import _length_batches

    lengths = [5] * 10 + [100]
    batches = _length_batches(list(range(11)), lengths, batch_size=32)
    # one batch of all eleven would pad ten 5-token sentences to 100 tokens
    assert batches == [list(range(10)), [10]]
    same = [7] * 70
    batches = _length_batches(list(range(70)), same, batch_size=32)
    # equal lengths: no padding to save, so the fewest batches the row cap allows
    assert len(batches) == 3 and max(len(b) for b in batches) <= 32
    assert [i for b in batches for i in b] == list(range(70))


class SpanMeanBackend(CountingBackend):
    """A backend with an in-pass sentence head: an input scores its token count, a span the mean token id
    over its tokens, so each sentence's score shows which tokens were pooled for it."""

    sentence_head = True

    def span_margins(self, encoded, span_weights):
        self.calls += 1
        ids = encoded["input_ids"].astype(np.float32)
        return self.margins_of(encoded), np.einsum("bst,bt->bs", span_weights, ids)

    def margins_of(self, encoded):
        return encoded["attention_mask"].sum(axis=1).astype(np.float32)


def test_sentence_head_scores_a_document_in_one_pass(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = "Kratom is safe. It has no side effects at all. Buy it here."
    backend = SpanMeanBackend()
    planned = plan_documents([text], tok, max_length=64, sentences_in_pass=True)
    assert planned.texts == [text]  # the window alone: no input per sentence
    assert planned.spans == [[(0, 15), (16, 46), (47, 59)]]
    doc = score_documents([text], tok, backend, max_length=64)[0]
    assert backend.calls == 1
    assert doc.margin == len(tok(text)["input_ids"])
    for span, margin in doc.sentences:
        ids = tok(text[span.start:span.end], add_special_tokens=False)["input_ids"]
        assert np.isclose(margin, np.mean(ids))  # exactly the sentence's own tokens were pooled


def test_sentence_head_one_sentence_text_takes_the_window_score(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    doc = score_documents(["Kratom cures everything."], tok, SpanMeanBackend(), max_length=64)[0]
    assert doc.sentences[0][1] == doc.margin


def test_sentence_head_windows_a_long_text(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = " ".join(f"Sentence number {i} talks about garlic and colds." for i in range(40))
    backend = SpanMeanBackend()
    planned = plan_documents([text], tok, max_length=64, sentences_in_pass=True)
    assert len(planned.texts) == len(planned.plans[0].windows) > 1
    doc = score_documents([text], tok, backend, max_length=64)[0]
    assert len(doc.sentences) == 40
    assert all(np.isfinite(m) for _, m in doc.sentences)
