"""Losses beyond sentence-transformers' own: SimCSE's auxiliary masked-LM objective.

SimCSE and SynCSE add a masked-language-model loss on the anchors (weight 0.1) when training
a masked-LM backbone, so that the encoder keeps its token-level knowledge while the contrastive
loss reshapes its sentence space. sentence-transformers has no such loss; this is a small
`nn.Module` in its style that wraps the contrastive loss and adds the MLM term.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from syncse.errors import SyncseError


class AuxiliaryMLMLoss(nn.Module):
    """`contrastive + weight * MLM(anchors)`.

    The MLM head is the backbone's pretrained one (loaded with `AutoModelForMaskedLM`), put on
    top of the *same* encoder that the sentence-transformer trains, with its decoder tied to
    that encoder's word embeddings again. The head is a submodule of this loss, so the trainer
    optimises it, and it is never saved with the model: the saved folder is the encoder alone,
    as in SimCSE.
    """

    def __init__(
        self,
        model: Any,
        contrastive: nn.Module,
        weight: float = 0.1,
        mask_probability: float = 0.15,
    ) -> None:
        super().__init__()
        from transformers import AutoModelForMaskedLM, DataCollatorForLanguageModeling

        self.model = model
        self.contrastive = contrastive
        self.weight = weight
        transformer = model[0]
        encoder = transformer.auto_model
        folder = getattr(encoder.config, "_name_or_path", None)
        try:
            head_model = AutoModelForMaskedLM.from_pretrained(folder)
        except (OSError, ValueError) as exc:
            raise SyncseError(
                f"{{}}: model {folder} has no masked-LM head "
                "(the MLM loss applies to BERT-like backbones only)",
                "mlm_weight",
            ) from exc
        prefix = head_model.base_model_prefix
        if not hasattr(head_model, prefix):
            raise SyncseError(f"{{}}: cannot find the encoder of {folder} to share", "mlm_weight")
        setattr(head_model, prefix, encoder)  # one encoder, two heads
        head_model.tie_weights()
        self.mlm_model = head_model.to(encoder.device)
        self.collator = DataCollatorForLanguageModeling(
            transformer.tokenizer, mlm=True, mlm_probability=mask_probability
        )

    def forward(self, sentence_features: Iterable[dict[str, torch.Tensor]], labels=None):
        features = list(sentence_features)
        anchors = features[0]
        input_ids = anchors["input_ids"]
        attention_mask = anchors["attention_mask"]
        contrastive = self.contrastive(features, labels)
        masked, mlm_labels = self.collator.torch_mask_tokens(input_ids.detach().cpu().clone())
        mlm_labels[attention_mask.detach().cpu() == 0] = -100  # padding is no target
        extra = {k: v for k, v in anchors.items() if k == "token_type_ids"}
        output = self.mlm_model(
            input_ids=masked.to(input_ids.device),
            attention_mask=attention_mask,
            labels=mlm_labels.to(input_ids.device),
            **extra,
        )
        return contrastive + self.weight * output.loss
