"""VGG19 feature maps for content (perceptual) losses, as SRGAN defines them (Ledig et al. 2017,
"Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network", Eq. 5):
phi_{i,j} is the feature map after the j-th convolution (after its ReLU) before the i-th max-pool
of VGG19. ``vgg22`` is phi_{2,2} (128 channels at 1/2 the side), ``vgg54`` phi_{5,4} (512
channels at 1/16 the side).

The layers are torchvision's ``vgg19().features`` cut after that ReLU, frozen and in eval mode;
its weights come from a torchvision vgg19 state dict file or from torchvision's own cache or
download of ``VGG19_Weights.IMAGENET1K_V1``. Inputs in [-1, 1] are normalised as ImageNet's
(mean / std of [0, 1] RGB), as those weights were trained.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ganarium.errors import ConfigError

# torchvision's vgg19().features modules kept for each feature map: up to the ReLU after conv i_j
VGG_LAYERS = {"vgg22": 9, "vgg54": 36}
# the smallest input side each feature map reads (one pixel after its max-pools)
MIN_SIDE = {"vgg22": 2, "vgg54": 16}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGFeatures(nn.Module):
    """(N, 1 or 3, H, W) in [-1, 1] -> phi_{i,j}: (N, 128, H/2, W/2) for ``vgg22``,
    (N, 512, H/16, W/16) for ``vgg54``. Gray inputs are repeated to RGB."""

    def __init__(self, layer: str, features: nn.Sequential) -> None:
        super().__init__()
        self.layer = layer
        self.features = features
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return self.features(((x + 1) / 2 - self.mean) / self.std)


def vgg19_layers(layer: str) -> nn.Sequential:
    """torchvision's VGG19 ``features`` up to ``layer`` on the meta device (no weights yet)."""
    from torchvision.models.vgg import cfgs, make_layers

    if layer not in VGG_LAYERS:
        raise ConfigError(f"unknown VGG feature map {layer!r}: use {' or '.join(VGG_LAYERS)}")
    with torch.device("meta"):
        return make_layers(cfgs["E"])[: VGG_LAYERS[layer]]


def pretrained_state_dict() -> dict[str, Tensor]:
    """torchvision's ImageNet VGG19 weights (``VGG19_Weights.IMAGENET1K_V1``), from its cache
    (``$TORCH_HOME/hub/checkpoints``) or downloaded there."""
    from torchvision.models import VGG19_Weights

    return VGG19_Weights.IMAGENET1K_V1.get_state_dict(progress=False, check_hash=True)


def read_state_dict(path: str) -> dict[str, Tensor]:
    """A vgg19 state dict from ``path`` (torch.save'd, or .safetensors); never runs code."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(
            f"model.vgg_weights={path!r}: no such file: pass model.vgg_weights=PATH of a "
            "torchvision vgg19 state dict (e.g. vgg19-dcbb9e9d.pth)"
        )
    try:
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(file))
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:  # a pickle that is no state dict, a truncated file, ...
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError(
            f"model.vgg_weights={path!r} cannot be read as a state dict ({reason[:160]}): save "
            "one with torch.save(torchvision.models.vgg19(...).state_dict(), PATH)"
        ) from None
    if not isinstance(state, dict):
        raise ConfigError(
            f"model.vgg_weights={path!r} holds no state dict: save model.state_dict()"
        )
    return state


def vgg_features(layer: str, weights: str = "") -> VGGFeatures:
    """Frozen VGG19 features ``layer`` (``vgg22`` or ``vgg54``) in eval mode on the CPU, with
    the weights of the file ``weights`` or, when empty, torchvision's pretrained ones."""
    features = vgg19_layers(layer)
    if weights:
        state = read_state_dict(weights)
    else:
        try:
            state = pretrained_state_dict()
        except (OSError, RuntimeError, ValueError) as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ConfigError(
                f"model.content={layer} needs VGG19 weights and torchvision could not get "
                f"VGG19_Weights.IMAGENET1K_V1 ({reason[:160]}): pass model.vgg_weights=PATH "
                "(a torchvision vgg19 state dict, e.g. vgg19-dcbb9e9d.pth)"
            ) from None
    wanted = {f"features.{k}": k for k in features.state_dict()}
    missing = [k for k in wanted if k not in state]
    if missing:
        raise ConfigError(
            f"the VGG19 weights {weights or 'from torchvision'} lack {missing[0]}: pass "
            "model.vgg_weights=PATH of a torchvision vgg19 state dict (keys features.N.weight)"
        )
    try:
        features.load_state_dict({k: state[f].float() for f, k in wanted.items()}, assign=True)
    except RuntimeError as e:
        raise ConfigError(
            f"the VGG19 weights {weights or 'from torchvision'} do not fit vgg19's layers "
            f"({str(e).splitlines()[-1].strip()[:160]}): pass a vgg19 (not vgg19_bn) state dict"
        ) from None
    return VGGFeatures(layer, features).requires_grad_(False).eval()
