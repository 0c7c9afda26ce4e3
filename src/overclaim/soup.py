"""Model soups: one model whose weights are the average of several runs fine-tuned from the same base.

Runs that start from the same weights and differ only in data order tend to end in one basin of the loss,
so their average is a model in its own right (Wortsman et al., 2022, "Model soups"), at the cost of one
model at prediction time. The greedy recipe takes runs best first by validation F1 and keeps each one
only if the soup's validation F1 does not drop; the uniform recipe averages them all. Every choice reads
validation data alone, and the soup is calibrated on the same validation data, as a trained run is.
"""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from .predict import TOKENIZER_FILES

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
SOUP_FILE = "soup.json"
RECIPES = ("greedy", "uniform")
# What a soup folder takes from its first run besides the weights; calibration and metrics are its own.
COPIED = ("config.json", "training_config.json", "special_tokens_map.json") + TOKENIZER_FILES


def average_weights(folders, output) -> Path:
    """Write a model folder whose weights are the mean of the runs' weights (same tensors required)."""
    from safetensors.torch import load_file, save_file

    folders = [Path(f) for f in folders]
    if not folders:
        raise ValueError("a soup needs at least one model folder")
    _check_same_base(folders)
    first = load_file(folders[0] / WEIGHTS_FILE)
    total = {k: v.double() if v.is_floating_point() else v for k, v in first.items()}
    for folder in folders[1:]:
        weights = load_file(folder / WEIGHTS_FILE)
        if weights.keys() != first.keys():
            raise ValueError(f"{folder} has other weight tensors than {folders[0]}; a soup needs runs of "
                             "one architecture")
        for name, tensor in weights.items():
            if tensor.shape != first[name].shape:
                raise ValueError(f"{folder}: {name} has shape {tuple(tensor.shape)}, "
                                 f"{folders[0]} has {tuple(first[name].shape)}")
            if tensor.is_floating_point():
                total[name] += tensor.double()
            elif not (tensor == first[name]).all():
                raise ValueError(f"{folder}: integer tensor {name} differs from {folders[0]}'s")
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    mean = {k: (v / len(folders)).to(first[k].dtype).contiguous() if v.is_floating_point() else v
            for k, v in total.items()}
    save_file(mean, str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    if out.resolve() != folders[0].resolve():
        for name in COPIED:
            if (folders[0] / name).is_file():
                shutil.copy2(folders[0] / name, out / name)
    return out


def _check_same_base(folders: list[Path]) -> None:
    bases = {}
    for folder in folders:
        if not (folder / WEIGHTS_FILE).is_file():
            raise FileNotFoundError(f"{folder} has no {WEIGHTS_FILE}")
        config = folder / "training_config.json"
        if config.is_file():
            bases[str(folder)] = json.loads(config.read_text()).get("base_model")
    if len(set(bases.values())) > 1:
        raise ValueError("a soup needs runs fine-tuned from one base model; these differ: "
                         + ", ".join(f"{f} from {b}" for f, b in bases.items()))


def validation_metrics(folder, data, device: str | None = None):
    """A model folder's metrics at its presets on validation data, after calibrating on that data;
    returns (metrics, calibration). Choices read ``metrics["balanced"]["f1"]``, as the sweeps do."""
    from .calibrate import fit_folder
    from .evaluate import metrics_at_presets

    margins, calibration = fit_folder(folder, data, f"{len(data)} validation texts from {data.source}", device)
    return metrics_at_presets(data.labels, calibration.probability(margins), calibration), calibration


def make_soup(folders, output, recipe: str = "greedy", validation: str = "corpus:validation",
              data_root: str | None = None, device: str | None = None) -> dict:
    """Average runs into ``output`` by a recipe, calibrate it, and record what went in (``soup.json``) and
    its validation metrics (``metrics.json``)."""
    from .sources import load_source

    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(RECIPES)}, got {recipe!r}")
    folders, out = [Path(f) for f in folders], Path(output)
    data = load_source(validation, data_root)

    def scored(folder):
        return validation_metrics(folder, data, device)

    single = {str(f): scored(f) for f in folders}
    if recipe == "uniform":
        chosen = folders
        metrics, calibration = scored(average_weights(chosen, out))
    else:
        ranked = sorted(folders, key=lambda f: -single[str(f)][0]["balanced"]["f1"])
        chosen, (metrics, calibration) = ranked[:1], single[str(ranked[0])]
        for folder in ranked[1:]:
            trial = scored(average_weights(chosen + [folder], out))
            score, best = trial[0]["balanced"]["f1"], metrics["balanced"]["f1"]
            log.info("soup of %d + %s: validation F1 %.4f (best so far %.4f)", len(chosen), folder, score, best)
            if score >= best:
                chosen, (metrics, calibration) = chosen + [folder], trial
        # The folder holds the last trial; write the chosen soup back (its metrics are already known).
        average_weights(chosen, out)
    calibration.save(out)
    record = {"recipe": recipe, "validation": validation, "validation_f1": round(metrics["balanced"]["f1"], 6),
              "ingredients": [str(f) for f in chosen],
              "ingredient_validation_f1": {k: round(v[0]["balanced"]["f1"], 6) for k, v in single.items()}}
    (out / SOUP_FILE).write_text(json.dumps(record, indent=2) + "\n")
    trained = [json.loads((f / "metrics.json").read_text()) for f in chosen if (f / "metrics.json").is_file()]
    summary = {"validation": metrics, "validation_size": len(data), "soup": record,
               "train_seconds": round(sum(m.get("train_seconds", 0) for m in trained), 1),
               "device": trained[0].get("device", "cpu") if trained else "cpu"}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    return record
