"""Static-embedding start models (`static:NAME`), word deletion for unsupervised SimCSE on them,
and the human caption pairs of the paper-table experiment. Real models and data, few steps."""

from __future__ import annotations

import json

import numpy as np
import pytest

from syncse.data.corpora import flickr8k_caption_pairs, flickr8k_captions, read_flickr8k
from syncse.errors import SyncseError
from syncse.models import load_encoder
from syncse.training import TrainingConfig, train
from syncse.training.reference import sick_triplets, write_jsonl
from syncse.training.trainer import delete_words


def test_lm_static_model_is_the_lms_input_embeddings_with_its_tokenizer():
    from safetensors import safe_open

    from syncse.backbones import dequantized_folder
    from syncse.static import static_folder

    model = load_encoder("static:smollm2-135m")
    first = model.encode(["dog"])[0]
    assert model[0].embedding_dim == 576
    # Built once as a plain sentence-transformers folder, which loads by path too.
    np.testing.assert_allclose(
        load_encoder(str(static_folder("static:smollm2-135m"))).encode(["dog"])[0], first
    )
    ids = model[0].tokenizer.encode("dog", add_special_tokens=False).ids
    with safe_open(str(next(dequantized_folder("smollm2-135m").glob("*.safetensors"))), "pt") as f:
        key = next(k for k in f.keys() if k.endswith("embed_tokens.weight"))  # noqa: SIM118
        table = f.get_tensor(key).float().numpy()
    np.testing.assert_allclose(first, table[ids].mean(axis=0), rtol=1e-5, atol=1e-6)


def test_glove_static_model_lowercases_and_maps_unknown_words_to_zero():
    model = load_encoder("static:glove-6b-50d")
    tokenizer = model[0].tokenizer
    assert tokenizer.encode("The DOG.", add_special_tokens=False).tokens == ["the", "dog", "."]
    a, b, unknown = model.encode(["The dog", "the dog", "qqxqzzv"])
    np.testing.assert_allclose(a, b)
    assert np.abs(unknown).max() == 0.0
    assert not np.allclose(a, 0)


def test_unknown_static_name_is_one_error_naming_the_choices():
    with pytest.raises(SyncseError, match="static:smollm2-135m.*glove-6b-50d"):
        load_encoder("static:nonesuch")


def test_word_deletion_is_reproducible_keeps_a_word_and_deletes_at_its_rate():
    sentences = ["a man rides a red bike down a steep hill today"] * 300 + ["one"]
    first = delete_words(sentences, seed=1, p=0.1)
    assert first == delete_words(sentences, seed=1, p=0.1)
    assert first != delete_words(sentences, seed=2, p=0.1)
    assert first[-1] == "one"
    kept = sum(len(s.split()) for s in first[:-1]) / (300 * 11)
    assert 0.85 < kept < 0.95
    heavy = delete_words(sentences, seed=1, p=0.9)
    assert all(s for s in heavy)  # one word always stays
    assert all(set(s.split()) <= set(sentences[0].split()) for s in first[:-1])


def test_static_model_trains_supervised_and_unsup_uses_word_deletion(senteval_dir, tmp_path):
    rows = sick_triplets(senteval_dir)[:128]
    data = write_jsonl(rows, tmp_path / "sick.jsonl")
    before = load_encoder("static:smollm2-135m").encode(["A man is playing a guitar."])
    summary = train(
        TrainingConfig(
            data=data,
            out=tmp_path / "sup",
            model="static:smollm2-135m",
            max_steps=4,
            batch_size=32,
            learning_rate=0.05,
        )
    )
    after = summary.model.encode(["A man is playing a guitar."])
    assert not np.allclose(before, after)
    assert summary.config["augmentation"] is None  # supervised: no augmentation
    reloaded = load_encoder(str(tmp_path / "sup"))
    np.testing.assert_allclose(reloaded.encode(["A man is playing a guitar."]), after, rtol=1e-5)

    unsup = train(
        TrainingConfig(
            data=data,
            out=tmp_path / "unsup",
            model="static:smollm2-135m",
            objective="unsup",
            max_steps=2,
            batch_size=32,
            learning_rate=0.05,
        )
    )
    assert unsup.config["augmentation"] == "word_deletion"
    saved = json.loads((tmp_path / "unsup" / "syncse_training.json").read_text())
    assert saved["config"]["augmentation"] == "word_deletion"
    assert "augmentation: word_deletion" in (tmp_path / "unsup" / "README.md").read_text()

    with pytest.raises(SyncseError, match="no dropout"):
        train(
            TrainingConfig(
                data=data,
                out=tmp_path / "dropout",
                model="static:smollm2-135m",
                objective="unsup",
                augmentation="dropout",
                max_steps=1,
            )
        )


def test_human_caption_pairs_are_other_captions_of_the_same_image(senteval_dir, flickr8k_dir):
    pairs = flickr8k_caption_pairs(senteval_dir, 300)
    assert len(pairs) == 300
    image_of = {}
    for image, captions in read_flickr8k(flickr8k_dir, "train").items():
        for caption in captions:
            image_of.setdefault(caption, set()).add(image)
    assert all(a != b and image_of[a] & image_of[b] for a, b in pairs)
    # The anchors are the captions the LLM arms annotate, in the same order (an image
    # without a usable second caption is skipped).
    drawn = flickr8k_captions(senteval_dir, 400)
    anchors = [a for a, _ in pairs]
    assert anchors == [c for c in drawn if c in set(anchors)][:300]
