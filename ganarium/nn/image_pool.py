"""CycleGAN's history of generated images (Zhu et al. 2017, Sec. 4, after Shrivastava et al.
2017): D is updated with fakes drawn from the last ``size`` generated images rather than only
the latest batch, which damps oscillation.

``query(images)``: while the pool is not full each new image is stored and returned; once it
is full each new image is, with probability 1/2, returned as it is, or else swapped for a stored
image chosen uniformly (the stored one is returned, the new one takes its place). Every draw
goes through torch's global RNG, so a seeded run is reproducible; the pool's contents are
training state (``state_dict`` / ``load_state_dict``, for a recipe's ``extra_state``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


class ImagePool:
    """A history of up to ``size`` generated images (``size`` 0: no pool, query returns its
    input)."""

    def __init__(self, size: int = 50) -> None:
        if size < 0:
            from ganarium.errors import ConfigError

            raise ConfigError(f"pool_size={size} must be >= 0 (0 turns the history off)")
        self.size = size
        self.images: list[Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, images: Tensor) -> Tensor:
        """A batch like ``images`` (B, C, H, W), mixed with the history as described above;
        detached."""
        images = images.detach()
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif float(torch.rand(())) < 0.5:
                i = int(torch.randint(0, self.size, ()))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        """The stored images as one CPU tensor (empty when none were stored)."""
        stored = torch.stack(self.images).cpu() if self.images else torch.zeros(0)
        return {"size": self.size, "images": stored}

    def load_state_dict(self, state: dict[str, Any], device: torch.device | str = "cpu") -> None:
        self.size = int(state["size"])
        stored = state["images"]
        self.images = [im.to(device) for im in stored] if stored.numel() else []


def query_packed(
    pool: ImagePool, parts: tuple[Tensor, Tensor, Tensor]
) -> tuple[Tensor, Tensor, Tensor]:
    """An (image (B, C, H, W), masks (B, K, H, W), presence (B, K)) fake through ``pool``,
    stored as one (B, C + 2K, H, W) tensor so the three stay together (InstaGAN)."""
    y, m, p = parts
    c, k = y.shape[1], m.shape[1]
    out = pool.query(torch.cat([y, m, p[:, :, None, None].expand_as(m)], 1))
    return out[:, :c], out[:, c : c + k], out[:, c + k :, 0, 0]
