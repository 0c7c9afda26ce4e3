"""Pass rates on the held-out stance probes (data/probes/stance.jsonl), for one or more models.

The probes were written after model v8 by a writer who saw neither the corpus nor the functional suite, and
no corpus item may come within character n-gram cosine 0.6 of one. They check whether training data aimed at
a capability generalises beyond the suite that revealed the failure. Scored at each model's balanced
threshold, with the torch backend so that models are compared on the same arithmetic.

Usage: python benchmarks/probe_set.py MODEL [MODEL ...] [--probes PATH]
"""
from __future__ import annotations

import argparse
from overclaim import Classifier
from overclaim.evaluate import STANCE_PROBES, functional_pass_rates, load_functional_suite


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="model folders")
    ap.add_argument("--probes", default=str(STANCE_PROBES))
    args = ap.parse_args()
    cases = load_functional_suite(args.probes)
    rows = {}
    for model in args.models:
        clf = Classifier.load(model, backend="torch")
        preds = clf.predict([c["text"] for c in cases])
        threshold = preds[0].threshold
        rows[model] = functional_pass_rates(cases, [p.score for p in preds], threshold)
    tests = list(dict.fromkeys(c["test"] for c in cases))  # in file order
    print(f"{len(cases)} probes from {args.probes}; pass rate (passed/cases) at each model's balanced threshold")
    print("| probe group | expects | " + " | ".join(args.models) + " |")
    print("|---|---:|" + "---:|" * len(args.models))
    for test in tests:
        first = rows[args.models[0]][test]
        cells = [f"{rows[m][test]['pass_rate']:.2f} ({rows[m][test]['passed']}/{rows[m][test]['cases']})"
                 for m in args.models]
        print(f"| {test} | {first['expected_flag']} | " + " | ".join(cells) + " |")
    totals = [sum(r["passed"] for r in rows[m].values()) for m in args.models]
    print("| all | | " + " | ".join(f"{t}/{len(cases)}" for t in totals) + " |")


if __name__ == "__main__":
    main()
