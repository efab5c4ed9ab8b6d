"""Reference values of CSDI's diffusion-step embedding table.

Transcribes DiffusionEmbedding._build_embedding of ermongroup/CSDI @ 7f24a43
(diff_models.py) in numpy float64 (the original runs in torch float32):

    steps = arange(num_steps)[:, None]
    frequencies = 10.0 ** (arange(dim) / (dim - 1) * 4.0)[None, :]    # dim = 64
    table = steps * frequencies
    table = cat([sin(table), cos(table)], dim=1)                        # (T, 128)

Run with Debian's /usr/bin/python3 (numpy 1.24.2): python3 gen_embedding.py > embedding.json
"""
import json

import numpy as np

num_steps, dim = 50, 64
steps = np.arange(num_steps, dtype=np.float64)[:, None]
frequencies = (10.0 ** (np.arange(dim, dtype=np.float64) / (dim - 1) * 4.0))[None, :]
table = steps * frequencies
table = np.concatenate([np.sin(table), np.cos(table)], axis=1)
rows = [0, 1, 7, 23, 49]
print(json.dumps({"steps": rows, "table": [table[t].tolist() for t in rows]}, indent=0))
