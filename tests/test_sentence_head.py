import numpy as np
import pytest

from overclaim import sentence_head


def test_targets_of_an_unflagged_text_are_all_zero():
    text = "Some say garlic cures colds. There is no evidence for that."
    assert [t[2] for t in sentence_head.sentence_targets(text, 0, None)] == [0, 0]


def test_targets_of_a_flagged_text_follow_its_claim_sentences():
    text = "I hiked all summer. Garlic cured my cold in a day. Great views."
    targets = sentence_head.sentence_targets(text, 1, ["Garlic cured my cold in a day."])
    assert [(text[a:b], label) for a, b, label in targets] == [
        ("I hiked all summer.", 0), ("Garlic cured my cold in a day.", 1), ("Great views.", 0)]


def test_flagged_text_without_annotation_has_no_sentence_targets():
    assert sentence_head.sentence_targets("One. Two.", 1, None) == []
    assert sentence_head.sentence_targets("Garlic cures colds.", 1, None) == [(0, 19, 1)]


def test_token_ranges_skip_special_tokens_and_mark_missing_spans():
    offsets = [(0, 0), (0, 4), (5, 9), (9, 10), (11, 15), (0, 0)]
    assert sentence_head.token_ranges(offsets, [(0, 10), (11, 15), (20, 30)]) == [(1, 4), (4, 5), (0, 0)]


def test_span_weights_average_each_span():
    weights = sentence_head.span_weight_matrix([[(1, 3)], [(0, 1), (2, 6)]], width=6)
    assert weights.shape == (2, 2, 6)
    assert np.allclose(weights.sum(axis=2), [[1, 0], [1, 1]])
    assert np.allclose(weights[1, 1, 2:6], 0.25)


def test_forward_scores_spans_through_the_model_head(tiny_model_dir):
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    ids = torch.tensor([[101, 2000, 2001, 2002, 102]])
    mask = torch.ones_like(ids)
    weights = torch.from_numpy(sentence_head.span_weight_matrix([[(1, 3), (3, 4)]], 5))
    with torch.no_grad():
        doc, spans = sentence_head.forward(model, ids, mask, None, weights)
        assert torch.allclose(doc, model(input_ids=ids, attention_mask=mask).logits, atol=1e-5)
        hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        pooled = hidden[:, 1:3].mean(dim=1)
        expected = model.classifier(model.bert.pooler.activation(model.bert.pooler.dense(pooled)))
    assert spans.shape == (1, 2, 2)
    assert torch.allclose(spans[:, 0], expected, atol=1e-5)


@pytest.mark.parametrize("config, expected", [
    ({"model_type": "bert", "overclaim_sentence_head": "mean_pool"}, True),
    ({"model_type": "bert"}, False),
    ({"model_type": "roberta", "overclaim_sentence_head": "mean_pool"}, False),
])
def test_only_marked_bert_models_use_the_head(config, expected):
    assert sentence_head.has_sentence_head(config) is expected


def test_collator_pads_span_targets_and_leaves_plain_batches_alone(tiny_model_dir):
    from transformers import AutoTokenizer

    collate = sentence_head.SpanCollator(AutoTokenizer.from_pretrained(tiny_model_dir))
    items = [{"input_ids": [101, 5, 6, 7, 102], "attention_mask": [1] * 5, "labels": 1,
              "span_tokens": [(1, 3), (3, 4)], "span_labels": [1, 0]},
             {"input_ids": [101, 8, 102], "attention_mask": [1] * 3, "labels": 0,
              "span_tokens": [], "span_labels": []}]
    batch = collate(items)
    assert batch["span_weights"].shape == (2, 2, 5)
    assert batch["span_labels"].tolist() == [[1, 0], [sentence_head.IGNORE, sentence_head.IGNORE]]
    plain = collate([{k: v for k, v in item.items() if not k.startswith("span")} for item in items])
    assert "span_weights" not in plain and plain["input_ids"].shape == (2, 5)
