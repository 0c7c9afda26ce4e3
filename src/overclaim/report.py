"""The project's standard evaluation of one classifier: corpus test split, functional suite, sentences."""
from __future__ import annotations

from . import corpus
from .evaluate import (accuracy_by_group, binary_metrics, bootstrap_ci, functional_pass_rates,
                       load_functional_suite, sentence_hit_rate)

PASS_TARGET = 0.85


def evaluate_model(classifier, split_column: str = "split", threshold: str = "balanced") -> dict:
    from sklearn.metrics import f1_score, roc_auc_score

    cut = classifier.calibration.resolve(threshold)
    records = [r for r in corpus.load_corpus() if r[split_column] == "test"]
    predictions = classifier.predict([r["text"] for r in records], threshold=cut)
    labels = [r["flag"] for r in records]
    scores = [p.score for p in predictions]
    test = binary_metrics(labels, scores, threshold=cut)
    test["f1_ci95"] = bootstrap_ci(labels, scores, lambda y, s: f1_score(y, s >= cut))
    test["auroc_ci95"] = bootstrap_ci(labels, scores, roc_auc_score)
    cases = load_functional_suite()
    case_scores = classifier.predict_proba([c["text"] for c in cases])
    functional = functional_pass_rates(cases, case_scores, cut)
    return {
        "model": classifier.name,
        "threshold": {"name": threshold, "value": cut},
        "split_column": split_column,
        "test": test,
        "test_by_claim_type": accuracy_by_group([r["claim_type"] for r in records], labels, scores, cut),
        "sentence_level": sentence_hit_rate(records, predictions),
        "functional": functional,
        "functional_min_pass_rate": min(row["pass_rate"] for row in functional.values()),
    }


def format_evaluation(result: dict) -> str:
    t = result["test"]
    lo, hi = t["f1_ci95"]
    lines = [
        f"model: {result['model']}   threshold: {result['threshold']['name']} = {result['threshold']['value']:.3f}",
        f"corpus test ({result['split_column']}, n={t['n']}): flag F1 {t['f1']:.3f} [{lo:.3f}, {hi:.3f}]  "
        f"precision {t['precision']:.3f}  recall {t['recall']:.3f}  AUROC {t.get('auroc', float('nan')):.3f}  "
        f"accuracy {t['accuracy']:.3f}",
        "",
        "accuracy by claim_type:",
    ]
    for name, row in result["test_by_claim_type"].items():
        lines.append(f"  {name:<36} {row['accuracy']:.3f}  (n={row['n']})")
    s = result["sentence_level"]
    lines += ["", f"top sentence is a claim sentence: {s['hit_rate']:.3f} ({s['hits']}/{s['items']} flagged "
              "multi-sentence items)", "", "functional suite pass rates:"]
    for name, row in result["functional"].items():
        mark = "" if row["pass_rate"] >= PASS_TARGET else "   <-- below 0.85"
        lines.append(f"  {name:<36} {row['pass_rate']:.3f}  ({row['passed']}/{row['cases']}, "
                     f"expects {row['expected_flag']}){mark}")
    lines.append(f"  minimum pass rate: {result['functional_min_pass_rate']:.3f}")
    return "\n".join(lines)
