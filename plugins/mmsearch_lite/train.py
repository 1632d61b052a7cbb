"""Train the lite projection (LiT-style: both towers frozen) and measure it on held-out data.

    python -m mmsearch_lite.train --out plugins/mmsearch_lite/projection.npz

Reproducible: fixed seed, deterministic hash split, data named by package. Features are cached
under ``<user cache>/mmsearch/lite/features`` (or ``MMSEARCH_LITE_CACHE``), so a rerun is fast.
Writes the ``.npz`` and a ``.json`` provenance sidecar next to it.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import bridge, data, evaluate, features, towers
from .projection import POOLED_DIM, TEXT_DIM, Projection

log = logging.getLogger("mmsearch_lite.train")
PROMPTS = ("{}", "a photo of a {}", "a drawing of a {}")
TEMPERATURES = (0.5, 1.0, 2.0, 3.0, 5.0)
SAMPLE_SIZE = 200  # the held-out sample tests/test_lite_embedder.py re-measures end to end
#: Caption variants per item for ``--captions mixed``: the whole caption, the name alone (what
#: people type: "alarm clock") and the name with its first two keywords.
VARIANTS = ("caption", "name", "name+2")


def caption_variants(caption: str) -> tuple[str, str, str]:
    """The item's caption in each of :data:`VARIANTS`."""
    parts = [p.strip() for p in caption.split(",") if p.strip()]
    return caption, data.name_of(caption), ", ".join(parts[:3])


def imagenet_head() -> tuple[np.ndarray, np.ndarray]:
    import torch

    state = torch.load(towers.image_weights_path(), map_location="cpu", weights_only=True)
    return state["_fc.weight"].numpy(), state["_fc.bias"].numpy()


def choose_bridge(logits: np.ndarray, texts: np.ndarray, text_model: Any) -> tuple[str, float, dict[str, Any]]:
    """Prompt and temperature with the best validation recall."""
    tried: dict[str, Any] = {}
    best = ("", 0.0, -1.0)
    for prompt in PROMPTS:
        classes = bridge.class_embeddings(text_model, prompt, shipped=None)
        for t in TEMPERATURES:
            value = evaluate.score(evaluate.recall(bridge.bridge(logits, classes, t), texts))
            tried[f"{prompt!r} T={t}"] = round(value, 3)
            if value > best[2]:
                best = (prompt, t, value)
    return best[0], best[1], tried


def fit(
    bridged: dict[str, np.ndarray], pooled: dict[str, np.ndarray], texts: dict[str, np.ndarray], args: argparse.Namespace
) -> tuple[Projection, dict[str, Any]]:
    """Symmetric InfoNCE with a learnable temperature; keeps the epoch with the best validation recall."""
    import torch

    torch.manual_seed(args.seed)
    mean = pooled["train"].mean(axis=0)
    std = pooled["train"].std(axis=0) + 1e-3

    def inputs(split: str) -> torch.Tensor:
        return torch.from_numpy(np.concatenate([bridged[split], (pooled[split] - mean) / std], axis=1).astype(np.float32))

    x_train = inputs("train")
    # (variants, n, 384): each step trains every item on one of its caption variants, drawn anew
    y_train = torch.from_numpy(texts["train"] if texts["train"].ndim == 3 else texts["train"][None])
    x_val = inputs("val")
    # choose the epoch by mean recall over whole captions and, when given, names alone
    val_texts = [texts["val"]] + ([texts["val_names"]] if "val_names" in texts else [])
    base = torch.zeros(TEXT_DIM + POOLED_DIM, TEXT_DIM)
    base[:TEXT_DIM] = torch.eye(TEXT_DIM)  # start exactly at the bridge
    delta = torch.zeros_like(base, requires_grad=True)
    bias = torch.zeros(TEXT_DIM, requires_grad=True)
    log_scale = torch.tensor(float(np.log(1 / 0.07)), requires_grad=True)
    optimiser = torch.optim.Adam([delta, bias, log_scale], lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    best: dict[str, Any] = {"score": -1.0}
    history = []
    for epoch in range(args.epochs):
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(order), args.batch):
            idx = order[start : start + args.batch]
            img = torch.nn.functional.normalize(x_train[idx] @ (base + delta) + bias, dim=1)
            pick = torch.randint(len(y_train), (len(idx),), generator=generator) if len(y_train) > 1 else torch.zeros(len(idx), dtype=torch.long)
            txt = y_train[pick, idx]
            logits = log_scale.clamp(max=np.log(100)).exp() * img @ txt.T
            target = torch.arange(len(idx))
            loss = (torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target)) / 2
            loss = loss + args.weight_decay * delta.pow(2).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            weight = (base + delta).half().float()  # measure what the float16 file will hold
            projected = (x_val @ weight + bias).numpy()
        value = float(np.mean([evaluate.score(evaluate.recall(projected, t)) for t in val_texts]))
        history.append({"epoch": epoch + 1, "loss": round(float(loss.detach()), 4), "val_mean_recall": round(value, 3)})
        log.info("epoch %d loss %.4f val mean recall %.2f", epoch + 1, float(loss.detach()), value)
        if value > best["score"]:
            best = {"score": value, "epoch": epoch + 1, "weight": weight.numpy().copy(), "bias": bias.detach().numpy().copy()}
    projection = Projection(best["weight"], best["bias"], mean, std, args.temperature, args.prompt, towers.PREPROCESS_VERSION)
    return projection, {"best_epoch": best["epoch"], "best_score": round(best["score"], 3), "history": history, "logit_scale": round(float(log_scale.detach().exp()), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmsearch_lite.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("projection.npz"))
    parser.add_argument("--cache", type=Path, default=None, help="feature cache folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--val-only", action="store_true", help="tune: report validation only, write nothing")
    parser.add_argument("--captions", choices=("full", "mixed"), default="full",
                        help="train on whole captions, or on a variant drawn per step (caption / name / name + 2 keywords)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("mmsearch_lite").setLevel(logging.INFO)  # ours only, not faiss/alembic chatter
    import torch

    torch.set_num_threads(args.threads)
    cache = args.cache or data.cache_dir() / "features"
    items = data.all_items()
    emoji_root = data.emoji_dir()
    if not items or emoji_root is None:
        log.error("need Debian openclipart-png + openclipart-svg and npm emoji-datasource-google (see RESULTS.md)")
        return 1
    splits = {s: data.by_split(items, s) for s in ("train", "val", "test")}
    log.info("items: %s", {s: len(v) for s, v in splits.items()})
    text_model = towers.load_text_tower()
    fc_w, fc_b = imagenet_head()
    pooled = {s: features.image_pooled(v, cache) for s, v in splits.items()}
    texts = {s: features.text_vectors([i.caption for i in v], cache, text_model) for s, v in splits.items()}
    names = {s: features.text_vectors([data.name_of(i.caption) for i in v], cache, text_model) for s, v in splits.items()}
    logits = {s: p @ fc_w.T + fc_b for s, p in pooled.items()}

    args.prompt, args.temperature, tried = choose_bridge(logits["val"], texts["val"], text_model)
    log.info("bridge: prompt %r, T=%s", args.prompt, args.temperature)
    classes = bridge.class_embeddings(text_model, args.prompt, shipped=None)
    if args.prompt == bridge.PROMPT and not args.val_only:
        bridge.save_class_embeddings(classes)
    bridged = {s: bridge.bridge(l, classes, args.temperature) for s, l in logits.items()}
    targets = dict(texts)
    if args.captions == "mixed":
        targets["train"] = np.stack([features.text_vectors([caption_variants(i.caption)[k] for i in splits["train"]], cache, text_model)
                                     for k in range(len(VARIANTS))])
        targets["val_names"] = names["val"]
    projection, training = fit(bridged, pooled, targets, args)
    if args.val_only:  # hyperparameters are chosen here, without looking at the held-out split
        val_proj = projection.apply(bridged["val"], pooled["val"])
        for label, queries in (("captions", texts["val"]), ("names", names["val"])):
            b, p = (evaluate.recall(x, queries) for x in (bridged["val"], val_proj))
            print(f"val {label}: bridge mean {evaluate.score(b):.2f}, projection mean {evaluate.score(p):.2f} "
                  f"(t2i@1 {p['t2i@1']:.1f} @5 {p['t2i@5']:.1f} @10 {p['t2i@10']:.1f}) @ epoch {training['best_epoch']}")
        return 0

    sample_ids = {i.id for i in data.heldout_sample(items, SAMPLE_SIZE)}
    in_sample = np.array([i.id in sample_ids for i in splits["test"]])
    trained = projection.apply(bridged["test"], pooled["test"])
    results = {}
    for name, mask in (("test", np.ones(len(in_sample), bool)), ("test_sample", in_sample)):
        results[name] = {
            "n": int(mask.sum()),
            "bridge (training-free)": evaluate.recall(bridged["test"][mask], texts["test"][mask]),
            "trained projection": evaluate.recall(trained[mask], texts["test"][mask]),
            "bridge, names as queries": evaluate.recall(bridged["test"][mask], names["test"][mask]),
            "trained projection, names as queries": evaluate.recall(trained[mask], names["test"][mask]),
            "chance": evaluate.chance(int(mask.sum())),
        }
        print(f"\nheld-out {name}, n={results[name]['n']}\n" + evaluate.table({k: v for k, v in results[name].items() if k != "n"}))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    projection.save(args.out)
    provenance = {
        "model_id_suffix": f"proj-{projection.digest}",
        "command": "python -m mmsearch_lite.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seed": args.seed,
        "hyperparameters": {k: getattr(args, k) for k in ("epochs", "batch", "lr", "weight_decay", "captions")},
        "data_sources": {
            "openclipart": "Debian openclipart-png + openclipart-svg (/usr/share/openclipart); caption = dc:title "
            "(file name when the title names a collection) + up to 5 dc:subject keywords",
            "emoji": f"npm {data.EMOJI_PACKAGE} {_npm_version(emoji_root)}, img/google/64, caption = name + short_names",
        },
        "split": f"sha1(item id) % 100: < {data.TEST_PERCENT} held-out test, < {data.TEST_PERCENT + data.VAL_PERCENT} val, rest train",
        "counts": {s: len(v) for s, v in splits.items()},
        "bridge_choice_on_val": {"prompt": args.prompt, "temperature": args.temperature, "tried": tried},
        "training": training,
        "preprocess": towers.PREPROCESS_VERSION,
        "packages": towers.package_versions(),
        "python": platform.python_version(),
        "results_percent": results,
    }
    args.out.with_suffix(".json").write_text(json.dumps(provenance, indent=1, ensure_ascii=False) + "\n", "utf-8")
    log.info("wrote %s (%d bytes) and its .json", args.out, args.out.stat().st_size)
    return 0


def _npm_version(root: Path) -> str:
    return json.loads((root / "package.json").read_text("utf-8")).get("version", "?")


if __name__ == "__main__":
    raise SystemExit(main())
