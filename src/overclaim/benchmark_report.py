"""Markdown tables and matplotlib figures from a benchmark's ``results.json``."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _label(cell: dict) -> str:
    return f"{cell['classifier']} ({cell['train_set']})" if cell["train_set"] else cell["classifier"]


def _ci(pair) -> str:
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]" if pair and not np.isnan(pair[0]) else ""


def _file_name(test_set: str) -> str:
    """A test set spec (maybe a path) as a short file-name part."""
    from pathlib import PurePath

    name = PurePath(test_set).stem if "/" in test_set else test_set
    return "".join(c if c.isalnum() or c in "-." else "_" for c in name)


def write_summary(result: dict, path: Path) -> None:
    cells = [c for c in result["cells"] if "error" not in c]
    lines = [f"# Benchmark `{result['run']}`", "",
             f"git commit `{result['git_commit']}`; schema v{result['schema_version']}; "
             f"command: `{' '.join(map(str, result['command']))}`", "",
             "Metrics at the balanced threshold (chosen on validation data, never on the test set); "
             "95% bootstrap intervals in brackets.", ""]
    for test_set in dict.fromkeys(c["test_set"] for c in result["cells"]):
        rows = [c for c in cells if c["test_set"] == test_set]
        if not rows:
            continue
        lines += [f"## {test_set} (n={rows[0]['n']}, positives {rows[0]['positives']})", "",
                  "| classifier (trained on) | F1 (flag) | 95% CI | macro F1 | weighted F1 | precision | recall | "
                  "AUROC | AUPRC | Brier | ECE | posts/s | leakage |",
                  "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for c in rows:
            m = c["metrics"]["balanced"]
            leak = c.get("leakage", {})
            lines.append(
                f"| {_label(c)} | {m['f1']:.3f} | {_ci(m.get('f1_ci95'))} | {m['macro_f1']:.3f} | "
                f"{m['weighted_f1']:.3f} | {m['precision']:.3f} | {m['recall']:.3f} | "
                f"{m.get('auroc', float('nan')):.3f} | {m.get('auprc', float('nan')):.3f} | {m['brier']:.3f} | "
                f"{m['ece']:.3f} | {c['posts_per_second']:.0f} | "
                f"{(str(leak['total']) + ' (' + format(leak['share'], '.1%') + ')') if leak else '-'} |")
        lines.append("")
        for c in rows:
            leak = c.get("leakage", {})
            if leak.get("balanced_without_overlap"):
                w = leak["balanced_without_overlap"]
                lines.append(f"- {_label(c)}: {leak['exact']} exact and {leak['near']} near duplicates of "
                             f"training items; without them F1 {w['f1']:.3f}, weighted F1 {w['weighted_f1']:.3f}")
        lines.append("")
    functional = [c for c in cells if c.get("functional")]
    if functional:
        tests = sorted(functional[0]["functional"])
        lines += ["## Functional tests (pass rate at the balanced threshold)", "",
                  "| test | expects | " + " | ".join(_label(c) for c in functional) + " |",
                  "|---|---:|" + "---:|" * len(functional)]
        for t in tests:
            lines.append(f"| {t} | {functional[0]['functional'][t]['expected_flag']} | " + " | ".join(
                f"{c['functional'][t]['pass_rate']:.2f}" for c in functional) + " |")
        lines.append("")
    lines += ["## Cross-dataset F1 (balanced threshold)", "", _heatmap_table(cells), ""]
    trained = {(_label(c), c["train_seconds"]) for c in cells if c.get("train_seconds") is not None}
    if trained:
        lines += ["## Training time (wall clock, this machine)", "", "| classifier (trained on) | seconds |",
                  "|---|---:|"] + [f"| {label} | {seconds:.1f} |" for label, seconds in sorted(trained)] + [""]
    errors = [c for c in result["cells"] if "error" in c]
    if errors:
        lines += ["## Cells that failed", ""]
        lines += [f"- {_label(c)} -> {c['test_set']}: {c['error']}" for c in errors]
        lines.append("")
    path.write_text("\n".join(lines))


def _heatmap_table(cells) -> str:
    rows = list(dict.fromkeys(_label(c) for c in cells))
    cols = list(dict.fromkeys(c["test_set"] for c in cells))
    value = {(_label(c), c["test_set"]): c["metrics"]["balanced"]["f1"] for c in cells}
    out = ["| classifier (trained on) | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for r in rows:
        out.append(f"| {r} | " + " | ".join(f"{value[(r, c)]:.3f}" if (r, c) in value else "-" for c in cols)
                   + " |")
    return "\n".join(out)


def write_plots(result: dict, out: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    from sklearn.metrics import precision_recall_curve

    cells = [c for c in result["cells"] if "error" not in c and c.get("scores")]
    written = []
    for test_set in dict.fromkeys(c["test_set"] for c in cells):
        rows = [c for c in cells if c["test_set"] == test_set and len(set(c["labels"])) == 2]
        if not rows:
            continue
        fig, (pr, rel) = plt.subplots(1, 2, figsize=(11, 4.5))
        for c in rows:
            p, r, _ = precision_recall_curve(c["labels"], c["scores"])
            pr.plot(r, p, label=_label(c))
            s, y = np.asarray(c["scores"]), np.asarray(c["labels"])
            which = np.minimum((s * 10).astype(int), 9)
            xs = [s[which == b].mean() for b in range(10) if (which == b).any()]
            ys = [y[which == b].mean() for b in range(10) if (which == b).any()]
            rel.plot(xs, ys, marker="o", label=_label(c))
        pr.set(xlabel="recall", ylabel="precision", title=f"Precision-recall: {test_set}")
        rel.plot([0, 1], [0, 1], ls="--", c="grey")
        rel.set(xlabel="mean score", ylabel="fraction flagged in truth", title=f"Reliability: {test_set}")
        pr.legend(fontsize=7)
        fig.tight_layout()
        path = out / f"pr_reliability_{_file_name(test_set)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    functional = [c for c in cells if c.get("functional")]
    if functional:
        tests = sorted(functional[0]["functional"])
        fig, ax = plt.subplots(figsize=(11, 0.28 * len(tests) + 1.5))
        height = 0.8 / len(functional)
        for k, c in enumerate(functional):
            ax.barh(np.arange(len(tests)) + k * height, [c["functional"][t]["pass_rate"] for t in tests],
                    height=height, label=_label(c))
        ax.set_yticks(np.arange(len(tests)) + 0.4 - height / 2, tests, fontsize=7)
        ax.axvline(0.85, ls="--", c="grey")
        ax.set(xlabel="pass rate", xlim=(0, 1), title="Functional tests")
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        path = out / "functional_pass_rates.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    rows = list(dict.fromkeys(_label(c) for c in cells))
    cols = list(dict.fromkeys(c["test_set"] for c in cells))
    grid = np.full((len(rows), len(cols)), np.nan)
    for c in cells:
        grid[rows.index(_label(c)), cols.index(c["test_set"])] = c["metrics"]["balanced"]["f1"]
    fig, ax = plt.subplots(figsize=(1.6 * len(cols) + 3, 0.5 * len(rows) + 1.5))
    im = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(cols)), cols, rotation=20, fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    for i in range(len(rows)):
        for j in range(len(cols)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", color="w", fontsize=8)
    fig.colorbar(im, ax=ax, label="flag-class F1")
    ax.set_title("Cross-dataset F1 (balanced threshold)")
    fig.tight_layout()
    path = out / "cross_dataset_f1.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written
