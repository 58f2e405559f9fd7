"""Run by `torchrun --nproc_per_node 2` in tests: train a few steps, then every rank writes a
checksum of its weights so the test can check that data-parallel ranks stayed in sync."""

import hashlib
import sys
from pathlib import Path

import torch.distributed as dist

from syncse.training import TrainingConfig, train
from syncse.training.trainer import load_model

data, out = Path(sys.argv[1]), Path(sys.argv[2])
config = TrainingConfig(data=data, out=out, max_steps=3, batch_size=8, device="cpu", overwrite=True)
model = load_model(config)
train(config, model=model)
digest = hashlib.sha256()
for name, tensor in sorted(model.state_dict().items()):
    digest.update(name.encode())
    digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
rank = dist.get_rank() if dist.is_initialized() else 0
world = dist.get_world_size() if dist.is_initialized() else 1
(out.parent / f"rank{rank}-of-{world}.sha256").write_text(digest.hexdigest())
