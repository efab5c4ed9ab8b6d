"""Reference outputs of CSDI's denoising network (diff_CSDI) for TestNetworkMatchesTorch.

The modules below transcribe diff_models.py of ermongroup/CSDI @ 7f24a43 (get_torch_trans,
Conv1d_with_init, DiffusionEmbedding, diff_CSDI, ResidualBlock), run by PyTorch in float64
with dropout off. Two changes, both the tabular layout of csdi_icr.md §1.7: the side
information has 17 channels (the feature embedding and the conditional mask; CSDI's time
embedding of the single position L = 1 is dropped), and the feed-forward width of the
transformer layers is a parameter (CSDI hard-codes 64, the value used here). With L = 1
CSDI skips the time transformer, so its parameters are not exported.

Every parameter is drawn U(-0.5, 0.5) from a fixed seed (CSDI's zero-initialized output
projection would make the output constant), then exported under the Go network's names.
The inputs are three sequences of K = 5 columns at diffusion steps 0, 7 and 23, each with
its own conditional mask. Also exported: random weights g and the autograd gradients of
Σ g⊙output with respect to every parameter. The diffusion-step embedding rows are exported as computed here,
so the Go test feeds the network exactly these (the table itself is checked elsewhere).

Run with Debian's python3-torch (1.13.1):
    /usr/bin/python3 gen_torch_network.py > torch_network.json
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.manual_seed(20240827)

K, C, LAYERS, HEADS, FFN, T = 5, 16, 2, 2, 64, 50
SIDE = 17


def get_torch_trans(heads=8, layers=1, channels=64, ffn=64):
    encoder_layer = nn.TransformerEncoderLayer(d_model=channels, nhead=heads, dim_feedforward=ffn, activation="gelu")
    return nn.TransformerEncoder(encoder_layer, num_layers=layers)


def Conv1d_with_init(in_channels, out_channels, kernel_size):
    layer = nn.Conv1d(in_channels, out_channels, kernel_size)
    nn.init.kaiming_normal_(layer.weight)
    return layer


class DiffusionEmbedding(nn.Module):
    def __init__(self, num_steps, embedding_dim=128, projection_dim=None):
        super().__init__()
        if projection_dim is None:
            projection_dim = embedding_dim
        self.register_buffer("embedding", self._build_embedding(num_steps, embedding_dim / 2), persistent=False)
        self.projection1 = nn.Linear(embedding_dim, projection_dim)
        self.projection2 = nn.Linear(projection_dim, projection_dim)

    def forward(self, diffusion_step):
        x = self.embedding[diffusion_step]
        x = self.projection1(x)
        x = F.silu(x)
        x = self.projection2(x)
        x = F.silu(x)
        return x

    def _build_embedding(self, num_steps, dim=64):
        steps = torch.arange(num_steps).unsqueeze(1)  # (T,1)
        frequencies = 10.0 ** (torch.arange(dim) / (dim - 1) * 4.0).unsqueeze(0)  # (1,dim)
        table = steps * frequencies  # (T,dim)
        table = torch.cat([torch.sin(table), torch.cos(table)], dim=1)  # (T,dim*2)
        return table


class ResidualBlock(nn.Module):
    def __init__(self, side_dim, channels, diffusion_embedding_dim, nheads, ffn):
        super().__init__()
        self.diffusion_projection = nn.Linear(diffusion_embedding_dim, channels)
        self.cond_projection = Conv1d_with_init(side_dim, 2 * channels, 1)
        self.mid_projection = Conv1d_with_init(channels, 2 * channels, 1)
        self.output_projection = Conv1d_with_init(channels, 2 * channels, 1)
        self.feature_layer = get_torch_trans(heads=nheads, layers=1, channels=channels, ffn=ffn)

    def forward_feature(self, y, base_shape):
        B, channel, K, L = base_shape
        if K == 1:
            return y
        y = y.reshape(B, channel, K, L).permute(0, 3, 1, 2).reshape(B * L, channel, K)
        y = self.feature_layer(y.permute(2, 0, 1)).permute(1, 2, 0)
        y = y.reshape(B, L, channel, K).permute(0, 2, 3, 1).reshape(B, channel, K * L)
        return y

    def forward(self, x, cond_info, diffusion_emb):
        B, channel, K, L = x.shape
        base_shape = x.shape
        x = x.reshape(B, channel, K * L)
        diffusion_emb = self.diffusion_projection(diffusion_emb).unsqueeze(-1)
        y = x + diffusion_emb
        # forward_time returns y unchanged for L == 1
        y = self.forward_feature(y, base_shape)
        y = self.mid_projection(y)
        _, cond_dim, _, _ = cond_info.shape
        cond_info = cond_info.reshape(B, cond_dim, K * L)
        cond_info = self.cond_projection(cond_info)
        y = y + cond_info
        gate, filter = torch.chunk(y, 2, dim=1)
        y = torch.sigmoid(gate) * torch.tanh(filter)
        y = self.output_projection(y)
        residual, skip = torch.chunk(y, 2, dim=1)
        x = x.reshape(base_shape)
        residual = residual.reshape(base_shape)
        skip = skip.reshape(base_shape)
        return (x + residual) / math.sqrt(2.0), skip


class diff_CSDI(nn.Module):
    def __init__(self, inputdim=2):
        super().__init__()
        self.channels = C
        self.diffusion_embedding = DiffusionEmbedding(num_steps=T, embedding_dim=128)
        self.input_projection = Conv1d_with_init(inputdim, self.channels, 1)
        self.output_projection1 = Conv1d_with_init(self.channels, self.channels, 1)
        self.output_projection2 = Conv1d_with_init(self.channels, 1, 1)
        nn.init.zeros_(self.output_projection2.weight)
        self.residual_layers = nn.ModuleList(
            [ResidualBlock(side_dim=SIDE, channels=C, diffusion_embedding_dim=128, nheads=HEADS, ffn=FFN) for _ in range(LAYERS)]
        )

    def forward(self, x, cond_info, diffusion_step):
        B, inputdim, K, L = x.shape
        x = x.reshape(B, inputdim, K * L)
        x = self.input_projection(x)
        x = F.relu(x)
        x = x.reshape(B, self.channels, K, L)
        diffusion_emb = self.diffusion_embedding(diffusion_step)
        skip = []
        for layer in self.residual_layers:
            x, skip_connection = layer(x, cond_info, diffusion_emb)
            skip.append(skip_connection)
        x = torch.sum(torch.stack(skip), dim=0) / math.sqrt(len(self.residual_layers))
        x = x.reshape(B, self.channels, K * L)
        x = self.output_projection1(x)
        x = F.relu(x)
        x = self.output_projection2(x)
        x = x.reshape(B, K, L)
        return x


def main():
    net = diff_CSDI()
    embed_layer = nn.Embedding(num_embeddings=K, embedding_dim=16)
    with torch.no_grad():
        for p in list(net.parameters()) + list(embed_layer.parameters()):
            p.uniform_(-0.5, 0.5)
    net.eval()


    def go_name(name):
        """The Go network's name of a PyTorch parameter."""
        name = name.replace("feature_layer.layers.0.", "feature_layer.")
        name = name.replace("self_attn.in_proj_weight", "self_attn.in_proj.weight")
        name = name.replace("self_attn.in_proj_bias", "self_attn.in_proj.bias")
        return name


    params = {go_name(n): p.detach().reshape(-1).tolist() for n, p in net.named_parameters()}
    params["embed_layer.weight"] = embed_layer.weight.detach().reshape(-1).tolist()

    B = 3
    steps = torch.tensor([0, 7, 23])
    x = torch.rand(B, 2, K, 1) * 4 - 2
    mask = torch.tensor([[1, 1, 0, 1, 1], [1, 0, 1, 1, 1], [0, 1, 1, 1, 0]], dtype=torch.float64)
    x[:, 0] *= mask.unsqueeze(-1)  # channel 0: M_c ⊙ x_0
    x[:, 1] *= (1 - mask).unsqueeze(-1)  # channel 1: (1 − M_c) ⊙ x_t
    feat = embed_layer(torch.arange(K)).t().unsqueeze(0).unsqueeze(-1).expand(B, 16, K, 1)
    cond = torch.cat([feat, mask.reshape(B, 1, K, 1)], dim=1)
    with torch.no_grad():
        out = net(x, cond, steps)
    # Gradients of Σ g⊙out for random weights g, through every parameter (autograd).
    g = torch.randn(out.shape)
    (net(x, cond, steps) * g).sum().backward()
    grads = {go_name(n): p.grad.reshape(-1).tolist() for n, p in net.named_parameters() if p.grad is not None}
    grads["embed_layer.weight"] = embed_layer.weight.grad.reshape(-1).tolist()
    print(json.dumps({
        "k": K, "channels": C, "layers": LAYERS, "heads": HEADS, "ffn": FFN,
        "torch": torch.__version__,
        "params": params,
        "input": x.squeeze(-1).permute(0, 2, 1).reshape(-1).tolist(),  # [B, K, 2], channels last
        "mask": mask.reshape(-1).tolist(),
        "steps": steps.tolist(),
        "embedding": net.diffusion_embedding.embedding[steps].reshape(-1).tolist(),
        "output": out.reshape(-1).tolist(),
        "output_weights": g.reshape(-1).tolist(),
        "grads": grads,
    }))


if __name__ == "__main__":
    main()
