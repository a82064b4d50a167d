"""What a text-to-image recipe with a latent shares (StackGAN): the data's vocabulary (data
without captions refused in one line), captions to token ids (an unknown word refused in one
line listing the words), ``caption_vocabulary()``, and sampling: ``generate_from_captions``
draws a latent per caption, ``generate(n)`` / ``decode(z)`` draw for default captions cycling
every class and attribute word.

Offline there is no pretrained caption encoder: ``build_text_encoder`` makes the project's own
(``T``, with an image encoder ``E`` as its partner, ``nets.stackgan``), trained alongside the
GAN by a contrastive joint embedding (``text_loss``, for a phase ``T`` with its own optimizer);
the GAN phases read its embeddings detached (``caption_embedding``), as the papers read fixed
pretrained ones.

A subclass calls ``read_vocabulary(info)`` in ``build`` and says what it draws for token ids
and latents (``images_for``)."""

from __future__ import annotations

import torch
from torch import Tensor

from ganarium.capabilities.captions import Captions
from ganarium.capabilities.latent import Latent
from ganarium.data import DataInfo
from ganarium.data.captions import cycling_captions, tokenize_all
from ganarium.errors import DataError
from ganarium.models import Batch, StepContext, StepOutput
from ganarium.nets.stackgan import ImageEncoder, TextEncoder
from ganarium.techniques.losses import joint_embedding_loss


class CaptionedRecipe(Latent, Captions):
    """Mixin for a recipe drawing images from captions and a latent ``self.latent``."""

    vocabulary: list[str]

    def read_vocabulary(self, info: DataInfo) -> list[str]:
        """The data's words in token id order (0: padding)."""
        self.vocabulary = list(info.vocabulary)
        if not self.vocabulary:
            raise DataError(
                f"{self.name} draws images for captions, but {info.name!r} has no captions: "
                "use data digit-captions"
            )
        return self.vocabulary

    def build_text_encoder(self, info: DataInfo, dim: int) -> None:
        """The caption encoder ``T`` (tokens -> (N, dim)) and its image partner ``E``."""
        self.T = TextEncoder(len(self.vocabulary), dim)
        self.E = ImageEncoder(info, dim)

    def text_optimizer(self, lr: float) -> torch.optim.Optimizer:
        """Adam (default betas) over both encoders, for the phase ``T``."""
        return torch.optim.Adam([*self.T.parameters(), *self.E.parameters()], lr=lr)

    def text_loss(self, batch: Batch, ctx: StepContext) -> StepOutput:
        """The encoders' contrastive joint embedding of each caption with its image."""
        return joint_embedding_loss(self.T(batch["caption"]), self.E(batch["image"])), {}

    def caption_embedding(self, batch: Batch) -> Tensor:
        """The batch's caption embeddings (N, dim), detached: the GAN does not train ``T``."""
        with torch.no_grad():
            return self.T(batch["caption"])

    def images_for(self, tokens: Tensor, latent: Tensor) -> Tensor:
        """Images in the data's range for caption token ids (N, L) and latents (N, dim), by the
        sampling nets in eval mode."""
        raise NotImplementedError

    def caption_vocabulary(self) -> list[str]:
        return self.vocabulary[1:]

    def default_captions(self, n: int) -> list[str]:
        """Captions cycling the classes, then the thickness and the slant words."""
        return cycling_captions(n)

    def tokens(self, captions: list[str]) -> Tensor:
        """Caption texts -> token ids; unknown words raise one line listing the vocabulary."""
        return tokenize_all(captions, self.vocabulary)

    @torch.no_grad()
    def generate_from_captions(self, captions: list[str]) -> Tensor:
        tokens = self.tokens(captions)
        return self.images_for(tokens, self.latent.sample(len(tokens), self.device))

    @torch.no_grad()
    def generate(self, n: int, labels: Tensor | None = None, z: Tensor | None = None) -> Tensor:
        """n samples for ``default_captions(n)`` (every class, thickness and slant)."""
        return self.decode(self.latent.sample(n, self.device) if z is None else z)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.images_for(self.tokens(self.default_captions(len(z))), z)
