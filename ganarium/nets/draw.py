"""The DRAW network (Gregor et al. 2015, "DRAW: A Recurrent Neural Network For Image
Generation"): an encoder and a decoder LSTM that build an image on a canvas over T steps,
reading from the image and writing to the canvas through Gaussian filterbanks (Sec. 3.2).

At each step t (Eq. 3-8):
    x_hat = x - sigmoid(c_{t-1})
    r_t = read(x, x_hat, h_dec_{t-1})
    h_enc_t = LSTM_enc(h_enc_{t-1}, [r_t, h_dec_{t-1}])
    z_t ~ Q(z_t | h_enc_t) = N(mu_t, sigma_t)
    h_dec_t = LSTM_dec(h_dec_{t-1}, z_t)
    c_t = c_{t-1} + write(h_dec_t)
and p(x | z_1..T) is Bernoulli with p = sigmoid(c_T). The attention parameters (g_X, g_Y,
log sigma^2, log delta, log gamma) come from a linear layer on h_dec (Eq. 21-24); the N x N grid
of Gaussian filters F_X, F_Y (Eq. 19-20, 25-26) reads a patch gamma F_Y x F_X^T and writes
1/gamma F_Y^T w F_X. Without attention, read is [x, x_hat] and write a linear layer.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganarium.nets.encoders import gaussian_sample


def filterbank(params: Tensor, n: int, height: int, width: int) -> tuple[Tensor, Tensor, Tensor]:
    """(B, 5) attention parameters -> F_Y (B, N, H), F_X (B, N, W), gamma (B, 1)."""
    gx_, gy_, log_var, log_delta, log_gamma = params.split(1, 1)
    # the paper's 1-based grid centre (A + 1) / 2 (g~ + 1), in 0-based pixel coordinates
    gx = (width + 1) / 2 * (gx_ + 1) - 1
    gy = (height + 1) / 2 * (gy_ + 1) - 1
    delta = (max(height, width) - 1) / (n - 1) * log_delta.exp() if n > 1 else log_delta.exp()
    var = log_var.exp()
    offsets = (
        torch.arange(n, device=params.device, dtype=params.dtype) - (n - 1) / 2
    )  # i - N/2 - 1/2

    def bank(center: Tensor, size: int) -> Tensor:
        mu = center + offsets * delta  # (B, N)
        pos = torch.arange(size, device=params.device, dtype=params.dtype)
        f = torch.exp(-((pos[None, None] - mu[..., None]) ** 2) / (2 * var[..., None]))
        return f / f.sum(-1, keepdim=True).clamp_min(1e-8)

    return bank(gy, height), bank(gx, width), log_gamma.exp()


class DRAW(nn.Module):
    """The DRAW encoder-decoder for (C, H, W) images over ``steps`` steps; ``read_n`` /
    ``write_n`` grid sizes, 0 for no attention."""

    def __init__(
        self,
        shape: tuple[int, int, int],
        steps: int = 10,
        z_dim: int = 16,
        hidden: int = 256,
        read_n: int = 2,
        write_n: int = 5,
    ) -> None:
        super().__init__()
        self.shape, self.steps, self.z_dim, self.hidden = shape, steps, z_dim, hidden
        self.read_n, self.write_n = read_n, write_n
        c, h, w = shape
        read_dim = 2 * c * (read_n * read_n if read_n else h * w)
        self.encoder = nn.LSTMCell(read_dim + hidden, hidden)
        self.decoder = nn.LSTMCell(z_dim, hidden)
        self.posterior = nn.Linear(hidden, 2 * z_dim)
        self.read_attention = nn.Linear(hidden, 5) if read_n else None
        self.write_attention = nn.Linear(hidden, 5) if write_n else None
        self.write_patch = nn.Linear(hidden, c * (write_n * write_n if write_n else h * w))

    def read(self, x: Tensor, x_hat: Tensor, h_dec: Tensor) -> Tensor:
        if self.read_attention is None:
            return torch.cat([x.flatten(1), x_hat.flatten(1)], 1)
        _, h, w = self.shape
        fy, fx, gamma = filterbank(self.read_attention(h_dec), self.read_n, h, w)

        def glimpse(img: Tensor) -> Tensor:  # (B, C, H, W) -> (B, C * N * N)
            patch = fy[:, None] @ img @ fx[:, None].transpose(-1, -2)
            return patch.flatten(1) * gamma

        return torch.cat([glimpse(x), glimpse(x_hat)], 1)

    def write(self, h_dec: Tensor) -> Tensor:
        c, h, w = self.shape
        patch = self.write_patch(h_dec)
        if self.write_attention is None:
            return patch.view(-1, c, h, w)
        fy, fx, gamma = filterbank(self.write_attention(h_dec), self.write_n, h, w)
        patch = patch.view(-1, c, self.write_n, self.write_n)
        return fy[:, None].transpose(-1, -2) @ patch @ fx[:, None] / gamma[..., None, None]

    def _zeros(self, n: int, device: torch.device) -> tuple[Tensor, Tensor]:
        return torch.zeros(n, self.hidden, device=device), torch.zeros(
            n, self.hidden, device=device
        )

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """x (B, C, H, W) in [0, 1] -> (final canvas logits c_T, means, log-variances of
        z_1..T (B, T, z_dim) each)."""
        b = len(x)
        canvas = torch.zeros(b, *self.shape, device=x.device)
        h_enc, c_enc = self._zeros(b, x.device)
        h_dec, c_dec = self._zeros(b, x.device)
        means, log_vars = [], []
        for _ in range(self.steps):
            x_hat = x - torch.sigmoid(canvas)
            r = self.read(x, x_hat, h_dec)
            h_enc, c_enc = self.encoder(torch.cat([r, h_dec], 1), (h_enc, c_enc))
            z, mean, log_var = gaussian_sample(self.posterior(h_enc))
            h_dec, c_dec = self.decoder(z, (h_dec, c_dec))
            canvas = canvas + self.write(h_dec)
            means.append(mean)
            log_vars.append(log_var)
        return canvas, torch.stack(means, 1), torch.stack(log_vars, 1)

    def sample(self, z: Tensor) -> Tensor:
        """Canvases after each step for z (B, T, z_dim) from the prior: (B, T, C, H, W) logits."""
        b = len(z)
        canvas = torch.zeros(b, *self.shape, device=z.device)
        h_dec, c_dec = self._zeros(b, z.device)
        out = []
        for t in range(self.steps):
            h_dec, c_dec = self.decoder(z[:, t], (h_dec, c_dec))
            canvas = canvas + self.write(h_dec)
            out.append(canvas)
        return torch.stack(out, 1)
