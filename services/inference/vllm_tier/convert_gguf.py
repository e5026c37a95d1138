"""Convert the SmolLM2 GGUF file into a Hugging Face safetensors folder that vLLM can load.

Runs inside the vLLM tier's own venv (it needs torch, tokenizers and the gguf package).
Usage: python convert_gguf.py GGUF_FILE OUTPUT_FOLDER
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

_LAYER_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}

# The tied embedding has no output.weight in the GGUF; vLLM ties lm_head to this name.
_GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}


def field_value(reader: gguf.GGUFReader, key: str) -> Any:
    """Return one metadata value, failing with the key name when it is absent."""
    field = reader.get_field(key)
    if field is None:
        raise KeyError(f"GGUF metadata has no {key!r}")
    return field.contents()


def hf_name(gguf_name: str) -> str:
    """Map a llama.cpp tensor name to its Hugging Face Llama name."""
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]

    _, layer, rest = gguf_name.split(".", 2)
    if rest not in _LAYER_NAMES:
        raise KeyError(f"Unknown GGUF tensor {gguf_name!r}; expected a Llama block tensor")
    return f"model.layers.{layer}.{_LAYER_NAMES[rest]}"


def unpermute(weight: np.ndarray, heads: int) -> np.ndarray:
    """Undo the rotary-pair interleaving llama.cpp's converter applies to q and k."""
    rows = weight.shape[0]
    return (
        weight.reshape(heads, rows // heads // 2, 2, *weight.shape[1:])
        .swapaxes(1, 2)
        .reshape(weight.shape)
    )


def convert_tensors(reader: gguf.GGUFReader) -> dict[str, torch.Tensor]:
    """Dequantize every tensor to bfloat16 under its Hugging Face name."""
    heads = int(field_value(reader, "llama.attention.head_count"))
    kv_heads = int(field_value(reader, "llama.attention.head_count_kv"))

    tensors: dict[str, torch.Tensor] = {}
    for tensor in reader.tensors:
        weight = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        if tensor.name.endswith("attn_q.weight"):
            weight = unpermute(weight, heads)
        elif tensor.name.endswith("attn_k.weight"):
            weight = unpermute(weight, kv_heads)
        tensors[hf_name(tensor.name)] = torch.from_numpy(weight.copy()).to(torch.bfloat16)
    return tensors


def model_config(reader: gguf.GGUFReader) -> dict[str, Any]:
    """Build the Hugging Face LlamaConfig from the GGUF metadata."""
    hidden = int(field_value(reader, "llama.embedding_length"))
    heads = int(field_value(reader, "llama.attention.head_count"))
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": int(field_value(reader, "llama.feed_forward_length")),
        "num_hidden_layers": int(field_value(reader, "llama.block_count")),
        "num_attention_heads": heads,
        "num_key_value_heads": int(field_value(reader, "llama.attention.head_count_kv")),
        "head_dim": hidden // heads,
        "hidden_act": "silu",
        "max_position_embeddings": int(field_value(reader, "llama.context_length")),
        "rms_norm_eps": float(field_value(reader, "llama.attention.layer_norm_rms_epsilon")),
        "rope_theta": float(field_value(reader, "llama.rope.freq_base")),
        "vocab_size": int(field_value(reader, "llama.vocab_size")),
        "tie_word_embeddings": True,
        "bos_token_id": int(field_value(reader, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(field_value(reader, "tokenizer.ggml.eos_token_id")),
        "pad_token_id": int(field_value(reader, "tokenizer.ggml.padding_token_id")),
        "torch_dtype": "bfloat16",
    }


def write_tokenizer(reader: gguf.GGUFReader, folder: Path) -> None:
    """Rebuild the byte-level BPE tokenizer and its config from the GGUF metadata."""
    tokens = [str(token) for token in field_value(reader, "tokenizer.ggml.tokens")]
    token_types = [int(kind) for kind in field_value(reader, "tokenizer.ggml.token_type")]
    merges = [
        tuple(str(merge).split(" ", 1)) for merge in field_value(reader, "tokenizer.ggml.merges")
    ]

    # SmolLM2 splits digits one by one before the byte-level split ("smollm" pre-tokenizer).
    tokenizer = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    control = gguf.TokenType.CONTROL.value
    special = [t for t, kind in zip(tokens, token_types, strict=True) if kind == control]
    tokenizer.add_special_tokens(special)
    tokenizer.save(str(folder / "tokenizer.json"))

    bos = tokens[int(field_value(reader, "tokenizer.ggml.bos_token_id"))]
    eos = tokens[int(field_value(reader, "tokenizer.ggml.eos_token_id"))]
    unk = tokens[int(field_value(reader, "tokenizer.ggml.unknown_token_id"))]
    pad = tokens[int(field_value(reader, "tokenizer.ggml.padding_token_id"))]
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bos,
        "eos_token": eos,
        "unk_token": unk,
        "pad_token": pad,
        "add_bos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": int(field_value(reader, "llama.context_length")),
        "chat_template": str(field_value(reader, "tokenizer.chat_template")),
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2))


def main(argv: list[str]) -> int:
    """Convert the file named on the command line."""
    if len(argv) != 3:
        print("usage: convert_gguf.py GGUF_FILE OUTPUT_FOLDER", file=sys.stderr)
        return 2
    source, folder = Path(argv[1]), Path(argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    reader = gguf.GGUFReader(str(source))

    config = model_config(reader)
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    generation = {"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"]}
    (folder / "generation_config.json").write_text(json.dumps(generation, indent=2))

    write_tokenizer(reader, folder)

    tensors = convert_tensors(reader)
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    print(f"wrote {len(tensors)} tensors to {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
