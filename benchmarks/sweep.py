"""Train several configurations, choose one on validation only, and report it beside the others.

    python benchmarks/sweep.py benchmarks/sweeps/constraint.toml --jobs 4 [--set base_model=/path ...]

The TOML file has a ``[sweep]`` table (``name``, ``select``: a dotted key into each run's metrics.json,
``evaluate``: also run ``overclaim evaluate`` on every model), a ``[common]`` table of training options
and one ``[[run]]`` table per configuration (``name`` plus the options it changes). Runs go to
``runs/<sweep>/<run>``; runs whose ``metrics.json`` exists are not trained again. The choice reads the
``select`` metric alone, so test figures in the table never decide anything. Several runs share one GPU
well: a small encoder leaves most of it idle, so ``--jobs`` above 1 pays there; on a CPU keep ``--jobs 1``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def dig(values: dict, dotted: str):
    for key in dotted.split("."):
        values = values[key]
    return values


def run_one(name: str, options: dict, folder: Path, evaluate: bool, threads: int, device: str | None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="false")
    started = time.time()
    if not (folder / "metrics.json").exists():
        config = folder / "sweep_config.json"
        config.write_text(json.dumps({**options, "output_dir": str(folder)}, indent=2) + "\n")
        with open(folder / "train.log", "w") as log:
            done = subprocess.run([sys.executable, "-m", "overclaim", "train", "--config", str(config)],
                                  stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        if done.returncode:
            return {"name": name, "error": f"training failed (exit {done.returncode}); see {folder}/train.log"}
    result = {"name": name, "options": options, "metrics": json.loads((folder / "metrics.json").read_text()),
              "wall_seconds": round(time.time() - started, 1)}
    if evaluate:
        out = folder / "evaluation.json"
        if not out.exists():
            split = "random_split" if options.get("corpus_split") == "random_split" else "split"
            with open(folder / "evaluate.log", "w") as log:
                done = subprocess.run([sys.executable, "-m", "overclaim", "evaluate", "--model", str(folder),
                                       "--backend", "torch", "--split-column", split, "--output", str(out)]
                                      + (["--device", device] if device else []),
                                      stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
            if done.returncode:
                result["error"] = f"evaluation failed; see {folder}/evaluate.log"
                return result
        result["evaluation"] = json.loads(out.read_text())
    return result


def table(results: list[dict], select: str, chosen: str | None) -> str:
    lines = ["| run | options | " + select + " | test weighted F1 | test flag F1 | test AUROC | functional min "
             "| tests >= 85% | train s | device |", "|" + "---|" * 10]
    for r in results:
        if "metrics" not in r:
            lines.append(f"| {r['name']} | | {r['error']} |||||||")
            continue
        m, ev = r["metrics"], r.get("evaluation")
        test = m.get("test", {})
        bal, free = test.get("balanced", {}), test.get("threshold_free", {})
        changed = ", ".join(f"{k}={r['options'][k]}" for k in r["overrides"])
        func_min = f"{ev['functional_min_pass_rate']:.2f}" if ev else ""
        passing = (f"{sum(v['pass_rate'] >= 0.85 for v in ev['functional'].values())}/{len(ev['functional'])}"
                   if ev else "")
        mark = " (chosen)" if r["name"] == chosen else ""
        lines.append(f"| {r['name']}{mark} | {changed} | {dig(m, select):.4f} | {bal.get('weighted_f1', 0):.4f} | "
                     f"{bal.get('f1', 0):.4f} | {free.get('auroc', 0):.4f} | {func_min} | {passing} | "
                     f"{m['train_seconds']} | {m.get('device', 'cpu')} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per training process")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a [common] option for every run (e.g. base_model=/local/folder)")
    parser.add_argument("--output-dir", default=str(ROOT / "runs"))
    parser.add_argument("--eval-device", default=None, help="device for the evaluations, e.g. cuda")
    args = parser.parse_args(argv)

    spec = tomllib.loads(Path(args.config).read_text())
    sweep = spec["sweep"]
    common = dict(spec.get("common", {}))
    for item in args.set:
        key, _, value = item.partition("=")
        common[key] = parse_value(value)
    runs = spec["run"]
    base = Path(args.output_dir) / sweep["name"]
    overrides = [{k: v for k, v in run.items() if k != "name"} for run in runs]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, run["name"], {**common, **changed}, base / run["name"],
                               bool(sweep.get("evaluate")), args.threads, args.eval_device)
                   for run, changed in zip(runs, overrides)]
        results = [f.result() for f in futures]
    for r, changed in zip(results, overrides):
        r["overrides"] = list(changed)
    ok = [r for r in results if "metrics" in r]
    chosen = max(ok, key=lambda r: dig(r["metrics"], sweep["select"]))["name"] if ok else None
    report = {"sweep": sweep, "common": common, "chosen": chosen, "runs": results}
    (base / "sweep.json").write_text(json.dumps(report, indent=2) + "\n")
    text = table(results, sweep["select"], chosen)
    (base / "sweep.md").write_text(text + "\n")
    print(text)
    print(f"chosen on {sweep['select']}: {chosen}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
