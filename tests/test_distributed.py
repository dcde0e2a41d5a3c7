"""A real torch.distributed run (gloo, 2 local processes): shard sizes, disjointness, coverage and equal
batch counts with shard="auto"."""

import json
import os
import socket
import subprocess
import sys

import pytest

WORKER = r"""
import json, os, sys
import torch, torch.distributed as dist
import fastimg
rank, world, port, out, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
ds = fastimg.ImageDataset(paths, list(range(len(paths))), fastimg.Transform(16))
loader = fastimg.Loader(ds, 4, seed=11)
seen = {}
for epoch in range(2):
    loader.set_epoch(epoch)
    seen[epoch] = [y.tolist() for _, y in loader]
counts = torch.tensor([len(seen[0])])
dist.all_reduce(counts, op=dist.ReduceOp.MAX)  # the collective itself proves both ranks ran together
json.dump({"rank": dist.get_rank(), "world": dist.get_world_size(), "len": len(loader), "seen": seen,
           "max_batches": int(counts)}, open(out, "w"))
dist.destroy_process_group()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(240)
def test_gloo_two_ranks_shard_the_set(folder_paths, tmp_path):
    port = str(free_port())
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(r), "2", port, str(tmp_path / f"r{r}.json"), *folder_paths], env=env
        )
        for r in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=200) == 0
    results = [json.loads((tmp_path / f"r{r}.json").read_text()) for r in range(2)]
    n = len(folder_paths)
    assert [r["rank"] for r in results] == [0, 1] and all(r["world"] == 2 for r in results)
    for epoch in ("0", "1"):
        per_rank = [sum(r["seen"][epoch], []) for r in results]
        assert len(results[0]["seen"][epoch]) == len(results[1]["seen"][epoch]) == results[0]["len"]
        assert len(per_rank[0]) == len(per_rank[1]) == (n + 1) // 2
        assert set(per_rank[0]) | set(per_rank[1]) == set(range(n))  # coverage
        overlap = set(per_rank[0]) & set(per_rank[1])
        assert len(overlap) <= (-n) % 2  # disjoint apart from the wrap-around padding
    assert results[0]["seen"]["0"] != results[0]["seen"]["1"]  # epochs reshuffle
