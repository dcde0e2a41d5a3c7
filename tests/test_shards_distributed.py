"""ShardDataset under a real torch.distributed run: gloo, 2 ranks x DataLoader 2 workers on 40 tiny
images in 8 shards: equal batch counts, every sample at least once per epoch and at most world - 1 = 1
repeat (DistributedSampler's padding), identical runs for one seed, exact resume mid-epoch through the
workers; and the same coverage over 3 epochs on even, uneven and fewer-shards-than-readers layouts."""

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from test_distributed import free_port

WORKER = r"""
import json, sys
import torch, torch.distributed as dist
import fastimg
rank, port, out, urls = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
T = fastimg.Transform(16, crop="random_resized", hflip=0.5)

def run(epoch, state=None):
    ds = fastimg.ShardDataset(urls, T, batch_size=3, seed=7, shuffle_buffer=6)
    if state is not None:
        ds.load_state_dict(state)
    ds.set_epoch(epoch)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    batches = [(y.tolist(), float(x.sum())) for x, y in dl]
    return batches, len(ds), ds

result = {}
for epoch in (0, 1):
    result[epoch], result["len"], ds = run(epoch)
result["again"] = run(0)[0]
result["resumed"] = run(0, ds.state_dict(batches=3) | {"epoch": 0})[0]
counts = torch.tensor([len(result[0])])
dist.all_reduce(counts, op=dist.ReduceOp.MAX)  # both ranks ran together
result["max"] = int(counts)
for name, layout in json.loads(sys.argv[5]).items():
    ds = fastimg.ShardDataset(layout, T, batch_size=4, seed=3, shuffle_buffer=8)
    for epoch in range(3):
        ds.set_epoch(epoch)
        got = [y.tolist() for _, y in torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)]
        result[f"{name}/{epoch}"] = [got, len(ds)]
json.dump(result, open(out, "w"))
dist.destroy_process_group()
"""


@pytest.mark.timeout(240)
def test_two_ranks_two_workers(tmp_path):
    from test_shards import make_shards
    from test_shards_epochs import LAYOUTS, shards_of

    urls = make_shards(tmp_path, shards=8, per_shard=5)
    layouts = {}
    for name, sizes in LAYOUTS.items():
        (tmp_path / name).mkdir()
        layouts[name] = shards_of(tmp_path / name, sizes, name=name)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    env["FASTIMG_NUM_THREADS"] = "1"
    port = str(free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(r), port, str(tmp_path / f"r{r}.json"), urls, json.dumps(layouts)],
            env=env,
        )
        for r in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=200) == 0
    res = [json.loads((tmp_path / f"r{r}.json").read_text()) for r in range(2)]
    for epoch in ("0", "1"):
        # Equal batch counts on both ranks, equal to len(): ceil(ceil(40 / 2) / 3) = 7.
        assert len(res[0][epoch]) == len(res[1][epoch]) == res[0]["len"] == res[1]["len"] == res[0]["max"] == 7
        labels = [v for r in res for y, _ in r[epoch] for v in y]
        assert len(labels) == 40  # 20 per rank: two full batches of 3 per worker plus the rank's partial
        assert set(labels) == set(range(40))  # 40 = 2 x 20: no padding needed, so no repeat
    assert res[0]["0"] != res[0]["1"]
    for r in res:
        assert r["again"] == r["0"]  # same seed, same batches and pixels
        assert r["resumed"] == r["0"][3:]  # resume after 3 batches yields exactly the rest
    for name, sizes in LAYOUTS.items():
        total = sum(sizes)
        for epoch in range(3):
            runs = [r[f"{name}/{epoch}"] for r in res]
            assert len(runs[0][0]) == len(runs[1][0]) == runs[0][1] == runs[1][1]  # equal batch counts = len()
            seen = Counter(v for got, _ in runs for y in got for v in y)
            assert set(seen) == set(range(total)), (name, epoch)  # every sample at least once
            assert sum(seen.values()) - total <= 1, (name, epoch)  # at most world - 1 repeats
