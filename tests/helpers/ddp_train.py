"""Run by `torchrun --nproc_per_node 2` in tests: train a few steps, then every rank writes a
checksum of its weights so the test can check that data-parallel ranks stayed in sync."""

import hashlib
import sys
from pathlib import Path

import torch.distributed as dist

from syncse.training import TrainingConfig, train
from syncse.training import trainer as trainer_module

data, out = Path(sys.argv[1]), Path(sys.argv[2])
captured = {}
original = trainer_module.load_model


def capture(config, **kwargs):
    captured["model"] = original(config, **kwargs)
    return captured["model"]


trainer_module.load_model = capture
train(TrainingConfig(data=data, out=out, max_steps=3, batch_size=8, device="cpu", overwrite=True))
digest = hashlib.sha256()
for name, tensor in sorted(captured["model"].state_dict().items()):
    digest.update(name.encode())
    digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
rank = dist.get_rank() if dist.is_initialized() else 0
world = dist.get_world_size() if dist.is_initialized() else 1
(out.parent / f"rank{rank}-of-{world}.sha256").write_text(digest.hexdigest())
