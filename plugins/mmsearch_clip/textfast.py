"""Text encoding that skips the padding: exact for causal CLIP text towers, several times faster.

The tokenizer pads every query to the context length (77), but a causal text tower's output is
read at the end-of-text token, which attends only to the tokens before it. Running the tower on
the first ``max(EOT position) + 1`` tokens of the batch thus gives the same vector for a tenth of
the work on a short query (ViT-B/32: 6 GFLOP at 77 tokens). This re-states open_clip's
``CLIP.encode_text`` with the sequence sliced, so it is used only after a self-check at load time
shows it matches open_clip's own result for this model (a later open_clip could change the tower).
"""

from __future__ import annotations

from typing import Any

import torch


def supports_trimming(net: Any) -> bool:
    """open_clip's built-in causal text tower with end-of-text (argmax) pooling, nothing else."""
    import open_clip

    return (
        type(net) is open_clip.CLIP
        and getattr(net, "attn_mask", None) is not None
        and getattr(net, "text_pool_type", None) == "argmax"
    )


def encode_text_trimmed(net: Any, tokens: torch.Tensor) -> torch.Tensor:
    length = int(tokens.argmax(dim=-1).max().item()) + 1  # EOT has the highest token id
    return encode_prefix(net, tokens[:, :length])


def encode_prefix(net: Any, text: torch.Tensor) -> torch.Tensor:
    """The text tower on tokens already cut after the last end-of-text token (any length)."""
    from open_clip.transformer import text_global_pool

    length = text.shape[1]
    cast_dtype = net.transformer.get_cast_dtype()
    x = net.token_embedding(text).to(cast_dtype) + net.positional_embedding[:length].to(cast_dtype)
    x = net.transformer(x, attn_mask=net.attn_mask[:length, :length])
    x = net.ln_final(x)
    x = text_global_pool(x, text, net.text_pool_type, eos_token_id=getattr(net, "text_eos_id", None))
    if net.text_projection is not None:
        x = net.text_projection(x) if isinstance(net.text_projection, torch.nn.Linear) else x @ net.text_projection
    return x


def trimming_matches(net: Any, tokenizer: Any, device: torch.device) -> bool:
    """Self-check: the trimmed path equals open_clip's own on a probe query, for this model."""
    if not supports_trimming(net):
        return False
    tokens = tokenizer(["a photo of a dog", "x"]).to(device)
    with torch.inference_mode():
        try:
            fast = encode_text_trimmed(net, tokens).float()
        except Exception:  # noqa: BLE001 - any drift in open_clip's internals: use its own path
            return False
        full = net.encode_text(tokens).float()
    scale = full.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return bool(((fast - full) / scale).abs().max() < 1e-3)
