"""The ``overclaim`` command line."""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

from . import __version__
from .backends import BACKENDS
from .calibrate import parse_threshold

MARK_ON, MARK_OFF = "\033[1;31m", "\033[0m"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as exc:
        print(f"overclaim: error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="overclaim", description="Find unsupported medical-efficacy claims.")
    parser.add_argument("--version", action="version", version=f"overclaim {__version__}")
    sub = parser.add_subparsers(title="commands")

    p = sub.add_parser("predict", help="score texts or a CSV/JSONL/Parquet file")
    p.add_argument("texts", nargs="*", help="texts to score")
    p.add_argument("--model", default=None, help="model folder or hub id (default: the shipped model)")
    p.add_argument("--backend", default="auto", choices=BACKENDS)
    p.add_argument("--threshold", default=None,
                   help="high_precision, balanced (default), high_recall, or a number in [0, 1]")
    p.add_argument("--input", help="file to score (.csv, .tsv, .jsonl, .parquet)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default="id")
    p.add_argument("--output", help="JSONL output for --input (default: standard output)")
    p.add_argument("--errors", help="also write malformed rows here (JSONL)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a verdict")
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(handler=_predict)

    t = sub.add_parser("train", help="fine-tune a model", description=_train_description())
    t.add_argument("--config", help="TOML or JSON file of training options; flags override it")
    _add_dataclass_options(t)
    t.add_argument("-v", "--verbose", action="store_true")
    t.set_defaults(handler=_train)

    e = sub.add_parser("evaluate", help="evaluate a model on the corpus test split and the functional suite")
    e.add_argument("--model", default=None)
    e.add_argument("--backend", default="auto", choices=BACKENDS)
    e.add_argument("--split-column", default="split", choices=["split", "random_split"])
    e.add_argument("--device", default=None, help="run the torch backend here, e.g. cuda (default: CPU)")
    e.add_argument("--output", help="write the full results as JSON here")
    e.set_defaults(handler=_evaluate)

    d = sub.add_parser("data", help="build or describe the corpus")
    dsub = d.add_subparsers(title="data commands")
    b = dsub.add_parser("build", help="merge JSONL parts and assign splits")
    b.add_argument("sources", nargs="*", help="JSONL parts (default: the corpus itself, re-split)")
    b.add_argument("--seed", type=int, default=13)
    b.add_argument("--keep-splits", metavar="CORPUS",
                   help="an earlier corpus.jsonl whose splits are kept; only new items are assigned")
    b.set_defaults(handler=_data_build)
    s = dsub.add_parser("stats", help="print corpus counts as Markdown")
    s.set_defaults(handler=_data_stats)

    sc = sub.add_parser("screen", help="score a large file into JSONL, resumably",
                        description="Streams CSV, TSV, JSONL or Parquet. Killed and started again, it continues "
                                    "where it stopped; malformed rows go to the errors file with line numbers.")
    sc.add_argument("input")
    sc.add_argument("--output", required=True, help="JSONL output (appended to when resuming)")
    sc.add_argument("--errors", help="malformed rows (default: OUTPUT with .errors.jsonl)")
    sc.add_argument("--model", default=None)
    sc.add_argument("--backend", default="auto", choices=BACKENDS)
    sc.add_argument("--threshold", default=None)
    sc.add_argument("--text-column", default="text")
    sc.add_argument("--id-column", default="id")
    sc.add_argument("--batch-size", type=int, default=32)
    sc.add_argument("--no-resume", action="store_true", help="start over, overwriting the output")
    sc.add_argument("--engine", default="local", choices=["local", "ray"],
                    help="ray: score with Ray Data over an actor pool (pip install 'overclaim[scale]')")
    sc.add_argument("--actors", type=int, default=2, help="Ray actors, one model each")
    sc.set_defaults(handler=_screen)

    v = sub.add_parser("serve", help="run the HTTP API and review page")
    v.add_argument("--model", default=None)
    v.add_argument("--backend", default="auto", choices=BACKENDS)
    v.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    v.add_argument("--port", type=int, default=8000)
    v.add_argument("--max-chars", type=int, default=100_000, help="characters per text")
    v.add_argument("--max-texts", type=int, default=256, help="texts per request")
    v.add_argument("--max-body-bytes", type=int, default=4_000_000)
    v.add_argument("--threads", type=int, default=None,
                   help="CPU threads for the model (default: the runtime's choice, usually all cores)")
    v.set_defaults(handler=_serve)

    k = sub.add_parser("benchmark", help="run classifiers x datasets and write results, tables and plots")
    k.add_argument("--config", help="TOML file (run, classifiers, train_sets, test_sets, ...)")
    k.add_argument("--run", help="run name: results go to OUTPUT_DIR/RUN")
    k.add_argument("--output-dir", help="default: results")
    k.add_argument("--data-root", help="folder laid out like ../shared/datasets")
    k.add_argument("--model", action="append", default=[], help="add a model folder or hub id (repeatable)")
    k.add_argument("--callable", action="append", default=[], help="add module:function scoring a list of texts")
    k.add_argument("--finetune", action="store_true", help="also fine-tune our pipeline on every training set")
    k.add_argument("--train-set", action="append", help="training sets for trainable entries (repeatable)")
    k.add_argument("--test-set", action="append", help="test sets (repeatable)")
    k.add_argument("--bootstrap", type=int, help="bootstrap resamples (default 1000)")
    k.add_argument("--force", action="store_true", help="recompute finished cells")
    k.set_defaults(handler=_benchmark)

    c = sub.add_parser("calibrate", help="refit a model's temperature and thresholds on validation data")
    c.add_argument("--model", default=None)
    c.add_argument("--validation", default="corpus:validation",
                   help="labelled source: a file with text/label columns or a named source (default: corpus:validation)")
    c.add_argument("--data-root")
    c.set_defaults(handler=_calibrate)

    u = sub.add_parser("soup", help="average runs fine-tuned from one base model into one model (a model soup)")
    u.add_argument("runs", nargs="+", help="model folders fine-tuned from the same base model")
    u.add_argument("--output", required=True, help="folder for the soup")
    u.add_argument("--recipe", choices=("greedy", "uniform"), default="greedy",
                   help="greedy: add runs best first while validation F1 does not drop (default); uniform: all")
    u.add_argument("--validation", default="corpus:validation", help="labelled source the choices and the "
                   "calibration read (default: corpus:validation)")
    u.add_argument("--data-root")
    u.add_argument("--device", help="torch device for scoring validation, e.g. cuda")
    u.set_defaults(handler=_soup)

    x = sub.add_parser("export", help="export a model folder to ONNX (fp32 and int8)")
    x.add_argument("model", nargs="?", default=None)
    x.add_argument("--no-quantize", action="store_true")
    x.set_defaults(handler=_export)
    return parser


def _train_description() -> str:
    return ("Fine-tune a Hugging Face encoder. Without --train-file it trains on the project corpus. "
            "Every option below can also come from --config (TOML or JSON).")


def _add_dataclass_options(parser: argparse.ArgumentParser) -> None:
    from .train import TrainingConfig

    for f in dataclasses.fields(TrainingConfig):
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.type in ("bool",) or isinstance(default, bool):
            parser.add_argument(flag, dest=f.name, default=None, action=argparse.BooleanOptionalAction,
                                help=f"(default: {default})")
        elif f.name == "extra_train":
            parser.add_argument(flag, dest=f.name, default=None, action="append",
                                help="another training source (repeatable), e.g. constraint2021:train")
        elif f.name == "label_map":
            parser.add_argument(flag, dest=f.name, default=None, type=json.loads,
                                help='JSON object mapping label names to 0/1, e.g. \'{"real": 0, "fake": 1}\'')
        else:
            # Read from the annotation, so optional numbers ("int | None") parse as numbers too.
            kind = {"int": int, "float": float}.get(str(f.type).split(" |")[0], str)
            parser.add_argument(flag, dest=f.name, default=None, type=kind, help=f"(default: {default})")


def _train(args) -> int:
    from .train import TrainingConfig, train

    values = TrainingConfig.from_file(args.config).to_dict() if args.config else {}
    for f in dataclasses.fields(TrainingConfig):
        if getattr(args, f.name, None) is not None:
            values[f.name] = getattr(args, f.name)
    out = train(TrainingConfig.from_dict(values))
    metrics = json.loads((out / "metrics.json").read_text())
    print(f"saved {out} ({metrics['train_seconds']} s)")
    for split in ("validation", "test"):
        if split in metrics:
            m = metrics[split]["balanced"]
            print(f"{split}: F1 {m['f1']:.3f}  precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
                  f"AUROC {metrics[split]['threshold_free'].get('auroc', float('nan')):.3f}")
    return 0


def _load(args):
    from .predict import Classifier

    return Classifier.load(args.model, backend=args.backend, device=getattr(args, "device", None))


def _predict(args) -> int:
    threshold = parse_threshold(args.threshold)
    if args.input:
        from .batch import score_stream

        classifier = _load(args)
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
        errors = open(args.errors, "w", encoding="utf-8") if args.errors else None
        try:
            report = score_stream(classifier, args.input, out, errors, text_column=args.text_column,
                                  id_column=args.id_column, threshold=threshold, batch_size=args.batch_size,
                                  errors_inline=True)
        finally:
            if args.output:
                out.close()
            if errors:
                errors.close()
        print(f"scored {report.scored} rows, flagged {report.flagged}, malformed {report.errors}"
              + (f" (see {args.errors})" if args.errors and report.errors else ""), file=sys.stderr)
        return 0
    texts = args.texts or ([sys.stdin.read()] if not sys.stdin.isatty() else [])
    if not texts:
        print("overclaim: error: give texts to score, pipe one on standard input, or use --input FILE",
              file=sys.stderr)
        return 2
    classifier = _load(args)
    predictions = classifier.predict(texts, threshold=threshold, batch_size=args.batch_size)
    for prediction in predictions:
        if args.json:
            print(json.dumps(prediction.to_dict(), ensure_ascii=False))
        else:
            print(render_verdict(prediction, color=sys.stdout.isatty()))
    return 0


def render_verdict(prediction, color: bool = False) -> str:
    """A readable verdict: the score, the decision, and the text with flagged sentences marked."""
    verdict = "FLAGGED" if prediction.flagged else "not flagged"
    head = f"{verdict}  score {prediction.score:.3f}  (threshold {prediction.threshold:.3f})"
    marked = prediction.flagged_sentences
    if not marked:
        return head + "\n  " + prediction.text.strip().replace("\n", "\n  ")
    text, pieces, at = prediction.text, [], 0
    on, off = (MARK_ON, MARK_OFF) if color else (">>", "<<")
    for s in sorted(marked, key=lambda s: s.start):
        pieces += [text[at:s.start], f"{on}{text[s.start:s.end]}{off}"]
        at = s.end
    pieces.append(text[at:])
    body = "".join(pieces).strip().replace("\n", "\n  ")
    lines = [head, "  " + body]
    lines += [f"  - {s.score:.3f}  {s.text}" for s in marked]
    return "\n".join(lines)


def _evaluate(args) -> int:
    from .report import evaluate_model, format_evaluation

    classifier = _load(args)
    result = evaluate_model(classifier, split_column=args.split_column)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(format_evaluation(result))
    return 0


def _data_build(args) -> int:
    from . import corpus

    # build() reads every source before it writes, so the corpus can be its own source.
    sources = args.sources or [str(corpus.CORPUS_FILE)]
    previous = corpus.load_corpus(args.keep_splits) if args.keep_splits else None
    print(json.dumps(corpus.build(sources, seed=args.seed, previous=previous)))
    return 0


def _data_stats(args) -> int:
    from . import corpus

    print(corpus.stats(corpus.load_corpus()))
    return 0


def _screen(args) -> int:
    options = dict(text_column=args.text_column, id_column=args.id_column,
                   threshold=parse_threshold(args.threshold), batch_size=args.batch_size)
    if args.engine == "ray":
        from .scale import screen_ray

        report = screen_ray(args.model, args.input, args.output, args.errors, actors=args.actors,
                            backend=args.backend, resume=not args.no_resume, **options)
    else:
        from .batch import screen

        report = screen(_load(args), args.input, args.output, args.errors, resume=not args.no_resume, **options)
    print(f"scored {report.scored} rows, flagged {report.flagged}, malformed {report.errors}, "
          f"already done {report.skipped}", file=sys.stderr)
    return 0


def _serve(args) -> int:
    from .serve import ServeLimits, serve

    serve(args.model, args.host, args.port, args.backend,
          ServeLimits(max_chars=args.max_chars, max_texts=args.max_texts, max_body_bytes=args.max_body_bytes),
          args.threads)
    return 0


def _benchmark(args) -> int:
    from .benchmark import BenchmarkConfig, ClassifierSpec, run_benchmark

    config = BenchmarkConfig.from_file(args.config) if args.config else BenchmarkConfig()
    for name in ("run", "output_dir", "data_root", "bootstrap"):
        if getattr(args, name) is not None:
            setattr(config, name, getattr(args, name))
    config.force = args.force
    config.classifiers += [ClassifierSpec(Path(m).name or m, "model", m) for m in args.model]
    config.classifiers += [ClassifierSpec(c, "callable", c) for c in args.callable]
    if args.finetune:
        config.classifiers.append(ClassifierSpec("finetuned-minilm", "finetune"))
    if args.train_set:
        config.train_sets = args.train_set
    if args.test_set:
        config.test_sets = args.test_set
    result = run_benchmark(config, argv=["overclaim", *sys.argv[1:]])
    out = Path(config.output_dir) / config.run
    print((out / "summary.md").read_text())
    failed = [c for c in result["cells"] if "error" in c]
    for c in failed:
        print(f"overclaim: cell failed: {c['classifier']} ({c['train_set']}) -> {c['test_set']}: {c['error']}",
              file=sys.stderr)
    print(f"results: {out / 'results.json'}", file=sys.stderr)
    return 1 if failed else 0


def _calibrate(args) -> int:
    from .calibrate import recalibrate
    from .predict import default_model_path

    cal = recalibrate(args.model or default_model_path(), args.validation, args.data_root)
    print(f"temperature {cal.temperature:.3f}; fitted on {cal.fitted_on}")
    for name, point in cal.thresholds.items():
        print(f"  {name:<15} threshold {point.threshold:.3f}  precision {point.precision:.3f}  recall {point.recall:.3f}")
    return 0


def _soup(args) -> int:
    from .soup import make_soup

    record = make_soup(args.runs, args.output, args.recipe, args.validation, args.data_root, args.device)
    for run, f1 in record["ingredient_validation_f1"].items():
        print(f"  {'in ' if run in record['ingredients'] else 'out'}  {run}: validation F1 {f1:.4f}")
    print(f"{args.output}: {record['recipe']} soup of {len(record['ingredients'])} runs, "
          f"validation F1 {record['validation_f1']:.4f}")
    return 0


def _export(args) -> int:
    from .export import export_onnx
    from .predict import default_model_path

    paths = export_onnx(args.model or default_model_path(), quantize=not args.no_quantize)
    for kind, path in paths.items():
        if kind == "recheck":
            band = json.loads(path.read_text())
            print(f"int8 recheck band: {band['band']} logits (largest int8 change {band['max_margin_change']} on "
                  f"{band['measured_on']}): {path}")
        else:
            print(f"{kind}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
