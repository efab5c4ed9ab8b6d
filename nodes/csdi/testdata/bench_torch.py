"""Reference timings of CSDI's network in PyTorch at this package's default size, for the
side-by-side figures of BenchmarkTrainStep and BenchmarkSampleStep (NOTES.md).

Uses the modules of gen_torch_network.py (CSDI's diff_models.py, tabular layout) at
16 channels, 2 layers, 2 heads, FFN 64, on K = 64 columns (the built-in table's size):
  - a training step: batch 16, forward, masked MSE, backward, Adam (lr 1e-3), dropout on;
  - a sampling step: one forward pass over 50 rows × 16 samples, no grad, eval mode.
float32 (PyTorch's default, as CSDI runs) and float64 (as the Go code), 1 and 2 threads.

    /usr/bin/python3 bench_torch.py          # the default size
    /usr/bin/python3 bench_torch.py csdi     # CSDI's size (BenchmarkTrainStepCSDI)
"""
import sys
import time

import torch

import gen_torch_network as g  # the modules only (its export runs under __main__)

g.K, g.C, g.LAYERS, g.HEADS, g.FFN = 64, 16, 2, 2, 64
if len(sys.argv) > 1 and sys.argv[1] == "csdi":  # CSDI's own size: 64 channels, 4 layers, 8 heads
    g.C, g.LAYERS, g.HEADS = 64, 4, 8


def median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


for dtype in (torch.float32, torch.float64):
    torch.set_default_dtype(dtype)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        torch.manual_seed(1)
        net = g.diff_CSDI()
        emb = torch.nn.Embedding(g.K, 16)
        opt = torch.optim.Adam(list(net.parameters()) + list(emb.parameters()), lr=1e-3)

        def batch(n):
            mask = (torch.rand(n, g.K) < 0.8).to(dtype)
            x = torch.randn(n, 2, g.K, 1)
            feat = emb(torch.arange(g.K)).t().unsqueeze(0).unsqueeze(-1).expand(n, 16, g.K, 1)
            cond = torch.cat([feat, mask.reshape(n, 1, g.K, 1)], dim=1)
            return x, cond, torch.randint(0, 50, (n,)), mask

        def train_step():
            net.train()
            x, cond, t, mask = batch(16)
            out = net(x, cond, t).squeeze(-1)
            loss = (((out - x[:, 1, :, 0]) * (1 - mask)) ** 2).sum() / (1 - mask).sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()

        xs, conds, ts, _ = batch(800)

        def sample_step():
            net.eval()
            with torch.no_grad():
                net(xs, conds, ts)

        tr = median_time(train_step, 200)
        sa = median_time(sample_step, 20)
        print(f"{str(dtype):14s} threads {threads}: train step {tr * 1e3:6.2f} ms, sampling step (800 sequences) {sa * 1e3:7.1f} ms = {800 / sa:6.0f} seq/s")
