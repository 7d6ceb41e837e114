"""A tiny multilingual CLIP of the real ``xlm-roberta-base-ViT-B-32`` shape: a ViT image tower
and an XLM-RoBERTa text tower built by transformers from a config.json and a SentencePiece-style
(Unigram) tokenizer, trained here on a few sentences in several scripts.

The files are laid out like the real ones: the text tower's config and tokenizer in a folder
(as the HF cache holds ``xlm-roberta-base``), the CLIP weights in one safetensors file.
"""

import json
from pathlib import Path

ARCH = "snapfind-test-multilingual"
REPO = "snapfind-test/xlm-roberta-tiny"
CORPUS = [
    "a dog on a beach at sunset",
    "ein Hund am Strand bei Sonnenuntergang",
    "un chien sur la plage au coucher du soleil",
    "un perro en la playa al atardecer",
    "夕暮れのビーチにいる犬",
    "собака на пляже на закате",
    "a mountain lake with snow",
    "ein Bergsee mit Schnee",
    "湖と雪の山",
    "горное озеро со снегом",
]
CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"hf_model_name": REPO, "hf_tokenizer_name": REPO, "hf_pooler_type": "mean_pooler"},
}


def write_text_tower(folder: Path) -> Path:
    """config.json and the tokenizer files of a tiny XLM-RoBERTa."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import XLMRobertaConfig, XLMRobertaTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=300, special_tokens=specials, unk_token="<unk>")
    tokenizer.train_from_iterator(CORPUS * 5, trainer)
    fast = XLMRobertaTokenizerFast(tokenizer_object=tokenizer, model_max_length=77)
    fast.save_pretrained(str(folder))
    config = XLMRobertaConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=80,
        pad_token_id=fast.pad_token_id,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
    )
    config.save_pretrained(str(folder))
    return folder


def write_tiny_multilingual(folder: Path, seed: int = 0) -> tuple[Path, Path, Path]:
    """Write (arch config, weights, text tower folder); the config is registered with
    open_clip under :data:`ARCH`."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    from desktop_app.core.encoders.catalog import ClipSpec, text_tower_overrides

    tower = write_text_tower(folder / "text-tower")
    config = folder / f"{ARCH}.json"
    config.write_text(json.dumps(CONFIG), "utf-8")
    open_clip.add_model_config(config)
    torch.manual_seed(seed)
    spec = ClipSpec("", ARCH, Path(), {}, "", text_tower=tower)
    model = open_clip.create_model(ARCH, pretrained=None, **text_tower_overrides(spec))
    weights = folder / f"{ARCH}.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    return config, weights, tower
