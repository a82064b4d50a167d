"""Conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018; Brock et al. 2019): batch
norm without its own affine, followed by a per-sample gain and bias predicted from the condition,
with the gain centred at 1 (gamma = 1 + delta) so a fresh layer starts as plain batch norm.

The condition is either class labels (looked up in embeddings) or a vector (mapped by linear
layers, e.g. BigGAN's shared embedding concatenated with a chunk of z)."""

from __future__ import annotations

from torch import Tensor, nn

from ganarium.nn.norms import sn


class ConditionalBatchNorm2d(nn.Module):
    """(B, C, H, W), cond (B,) labels or (B, D) vector -> (B, C, H, W).

    ``spectral`` puts spectral norm on the gain and bias linears (vector conditions only), as
    BigGAN's code does; their weights then keep PyTorch's initialisation (a zero matrix has no
    spectral norm), for the net to initialise as it likes."""

    conditional = True

    def __init__(
        self, channels: int, num_classes: int = 0, cond_dim: int = 0, spectral: bool = False
    ) -> None:
        super().__init__()
        if (num_classes > 0) == (cond_dim > 0):
            raise ValueError("give exactly one of num_classes (labels) or cond_dim (vectors)")
        if spectral and num_classes:
            raise ValueError("spectral norm applies to the linears of vector conditions only")
        self.bn = nn.BatchNorm2d(channels, affine=False)
        if num_classes:
            self.gain, self.bias = (
                nn.Embedding(num_classes, channels),
                nn.Embedding(num_classes, channels),
            )
        else:
            self.gain, self.bias = (
                sn(nn.Linear(cond_dim, channels, bias=False), spectral),
                sn(nn.Linear(cond_dim, channels, bias=False), spectral),
            )
        if not spectral:
            nn.init.zeros_(self.gain.weight)
            nn.init.zeros_(self.bias.weight)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        gamma = 1 + self.gain(cond)
        beta = self.bias(cond)
        return self.bn(x) * gamma[:, :, None, None] + beta[:, :, None, None]


class ClassNormCondition(nn.Module):
    """Labels (B,) -> the condition a generator's ``ConditionalBatchNorm2d`` layers read, and a
    factory for those layers.

    ``embed_dim`` > 0 feeds every norm one shared learned label embedding through its own
    linear maps (as BigGAN does, Brock et al. 2019); 0 gives each norm its own per-class gain
    and bias tables. Why shared by default: the tables start at zero and Adam moves each entry by
    about lr per step, so per-class tables learn the label in tens of thousands of steps, while a
    linear map of a random embedding sums many such steps and learns it in hundreds.
    """

    def __init__(self, num_classes: int, embed_dim: int = 64) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError("ClassNormCondition needs num_classes >= 1")
        self.num_classes, self.embed_dim = num_classes, embed_dim
        self.embed = nn.Embedding(num_classes, embed_dim) if embed_dim > 0 else None

    def norm(self, channels: int) -> ConditionalBatchNorm2d:
        if self.embed_dim > 0:
            return ConditionalBatchNorm2d(channels, cond_dim=self.embed_dim)
        return ConditionalBatchNorm2d(channels, num_classes=self.num_classes)

    def forward(self, y: Tensor) -> Tensor:
        return self.embed(y) if self.embed is not None else y
