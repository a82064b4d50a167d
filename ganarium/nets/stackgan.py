"""StackGAN's nets (Zhang et al. 2017, "StackGAN: Text to Photo-realistic Image Synthesis with
Stacked Generative Adversarial Networks", Sec. 3-4), sized for small images:

- ``TextEncoder``: word embeddings and a GRU, the last hidden state as the sentence embedding
  (the paper uses the pretrained char-CNN-RNN of Reed et al. 2016; here it is trained with the
  recipe, against ``ImageEncoder``, by a symmetric contrastive joint-embedding loss);
- ``ConditioningAugmentation``: the embedding -> (mu, log sigma^2) of a Gaussian from which the
  condition c is drawn (Sec. 3.1), with its KL term against N(0, I) (Eq. 2);
- ``StageOneGenerator``: (z, c) -> the low-resolution image, a DCGAN generator;
- ``StageTwoGenerator``: (stage-I image, c) -> the image at twice its resolution: an encoder,
  the condition replicated spatially and concatenated, residual blocks, x2 upsampling (Sec. 3.3);
- ``MatchingDiscriminator``: the compressed text embedding replicated over the image's 4x4
  feature map, joined by a 1x1 convolution (Sec. 3.2).
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from ganarium.data import DataInfo
from ganarium.nets import NETS, upsampling_plan


class TextEncoder(nn.Module):
    """tokens (B, L), 0 padding -> embeddings (B, dim)."""

    def __init__(self, vocabulary_size: int, dim: int = 128, word_dim: int = 32) -> None:
        super().__init__()
        self.words = nn.Embedding(vocabulary_size, word_dim, padding_idx=0)
        self.rnn = nn.GRU(word_dim, dim, batch_first=True)
        self.dim = dim

    def forward(self, tokens: Tensor) -> Tensor:
        lengths = (tokens != 0).sum(1).clamp_min(1).cpu()
        packed = pack_padded_sequence(
            self.words(tokens), lengths, batch_first=True, enforce_sorted=False
        )
        _, h = self.rnn(packed)
        return h[-1]


class ImageEncoder(nn.Module):
    """images (B, C, R, R) -> embeddings (B, dim), the text encoder's partner in training."""

    def __init__(self, info: DataInfo, dim: int = 128, width: int = 32) -> None:
        super().__init__()
        self.body = NETS.get("dcgan").discriminator(
            dataclasses.replace(info, num_classes=0), width=width, norm="none"
        )
        self.out = nn.Linear(self.body.feature_dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.body.features(x))


class ConditioningAugmentation(nn.Module):
    """embedding (B, e) and noise (B, c) -> (c = mu + sigma * noise, mu, log sigma^2)."""

    def __init__(self, embedding_dim: int, c_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(embedding_dim, 2 * c_dim)
        self.c_dim = c_dim

    def forward(self, embedding: Tensor, noise: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.fc(embedding).chunk(2, 1)
        return mu + (0.5 * logvar).exp() * noise, mu, logvar


def kl_to_standard_normal(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) (Eq. 2) averaged over the batch and the dimensions, as
    the authors' code reduces it (a sum over dimensions would weigh it c_dim times more)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean()


class StageOneGenerator(nn.Module):
    """(z (B, z_dim), text embedding (B, e), CA noise (B, c_dim)) -> (low-resolution images
    (B, C, r, r) in [-1, 1], mu, log sigma^2)."""

    def __init__(
        self, info: DataInfo, z_dim: int, c_dim: int, width: int, embedding_dim: int
    ) -> None:
        super().__init__()
        low = dataclasses.replace(info, num_classes=0)
        self.ca = ConditioningAugmentation(embedding_dim, c_dim)
        self.net = NETS.get("dcgan").generator(low, z_dim=z_dim + c_dim, width=width)

    def forward(self, z: Tensor, embedding: Tensor, noise: Tensor) -> tuple[Tensor, ...]:
        c, mu, logvar = self.ca(embedding, noise)
        return self.net(torch.cat([z, c], 1)), mu, logvar


class _Residual(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(True),
            nn.Conv2d(c, c, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c),
        )

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x + self.net(x))


class StageTwoGenerator(nn.Module):
    """(stage-I images (B, C, r, r), text embedding (B, e), CA noise (B, c_dim)) -> (images
    (B, C, 2r, 2r) in [-1, 1], mu, log sigma^2)."""

    def __init__(
        self, channels: int, c_dim: int, width: int, embedding_dim: int, blocks: int = 2
    ) -> None:
        super().__init__()
        self.ca = ConditioningAugmentation(embedding_dim, c_dim)
        self.encode = nn.Sequential(nn.Conv2d(channels, width, 3, 1, 1), nn.ReLU(True))
        self.join = nn.Sequential(
            nn.Conv2d(width + c_dim, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
            *(_Residual(width) for _ in range(blocks)),
        )
        self.decode = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(width, width // 2, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width // 2),
            nn.ReLU(True),
            nn.Conv2d(width // 2, channels, 3, 1, 1),
            nn.Tanh(),
        )

    def forward(self, low: Tensor, embedding: Tensor, noise: Tensor) -> tuple[Tensor, ...]:
        c, mu, logvar = self.ca(embedding, noise)
        h = self.encode(low)
        c_map = c[:, :, None, None].expand(-1, -1, *h.shape[2:])
        return self.decode(self.join(torch.cat([h, c_map], 1))), mu, logvar


class MatchingDiscriminator(nn.Module):
    """(images (B, C, R, R), text embeddings (B, e)) -> logits (B,): does the image look real
    and match the text? As in Sec. 3.2: the embedding compressed by a dense layer, replicated
    over the image's lowest-resolution feature map and concatenated with it, a 1x1 convolution
    over image and text features together, then one dense output."""

    def __init__(self, info: DataInfo, embedding_dim: int, width: int, text_dim: int = 32) -> None:
        super().__init__()
        self.body = NETS.get("dcgan").discriminator(
            dataclasses.replace(info, num_classes=0), width=width
        )
        self.r0, _ = upsampling_plan(info.resolution)
        self.channels = self.body.feature_dim // self.r0**2
        self.text = nn.Sequential(nn.Linear(embedding_dim, text_dim), nn.LeakyReLU(0.2))
        self.joint = nn.Sequential(
            nn.Conv2d(self.channels + text_dim, self.channels, 1), nn.LeakyReLU(0.2)
        )
        self.head = nn.Linear(self.body.feature_dim, 1)

    def forward(self, x: Tensor, embedding: Tensor) -> Tensor:
        h = self.body.features(x).view(len(x), self.channels, self.r0, self.r0)
        t = self.text(embedding)[:, :, None, None].expand(-1, -1, self.r0, self.r0)
        return self.head(self.joint(torch.cat([h, t], 1)).flatten(1)).squeeze(1)
