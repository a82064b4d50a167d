"""Unit tests of the reusable pieces of the energy / attention / large-scale families: shapes,
gradient flow and the property each piece exists for."""

import dataclasses

import pytest
import torch
from torch import nn

from ganarium.data import DataInfo
from ganarium.models.biggan import truncate_latent
from ganarium.models.ebgan import pull_away_term
from ganarium.nets.autoencoder import AutoencoderCritic, AutoencoderGenerator
from ganarium.nets.biggan import BigGANDiscriminator, BigGANGenerator, split_sizes
from ganarium.nets.sagan import SAGANDiscriminator, SAGANGenerator
from ganarium.nets.selfmod import SelfModGenerator
from ganarium.nets.unet_d import UNetDiscriminator
from ganarium.nn.attention import SelfAttention
from ganarium.nn.cond_bn import ClassNormCondition, ConditionalBatchNorm2d
from ganarium.nn.norms import largest_singular_value, sn
from ganarium.nn.resblocks import ResBlockDown, ResBlockUp
from ganarium.nn.self_mod import SelfModulatedBatchNorm2d
from ganarium.nn.unet_blocks import UNetDown, UNetUp
from ganarium.techniques.consistency import cutmix, cutmix_consistency, cutmix_mask
from ganarium.techniques.latent_opt import latent_step
from ganarium.techniques.regularizers import orthogonal_penalty

INFO = DataInfo(
    name="digits", shape=(1, 16, 16), num_classes=10, value_range=(-1.0, 1.0), kind="image"
)
UNCOND = dataclasses.replace(INFO, num_classes=0)


def _all_params_get_grad(module: nn.Module) -> None:
    missing = [n for n, p in module.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"no gradient reached {missing}"


# -- self-attention --------------------------------------------------------------------------
def test_self_attention_starts_as_identity_and_learns_gamma():
    torch.manual_seed(0)
    attn = SelfAttention(16)
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    y = attn(x)
    assert y.shape == x.shape
    assert torch.allclose(y, x), "gamma starts at 0: a fresh block is the identity"
    beta = attn.attention_map(x)
    assert beta.shape == (2, 64, 64)
    assert torch.allclose(beta.sum(-1), torch.ones(2, 64), atol=1e-5)
    y.pow(2).sum().backward()
    assert attn.gamma.grad is not None and attn.gamma.grad.abs() > 0
    assert x.grad is not None


def test_self_attention_mixes_distant_positions():
    torch.manual_seed(0)
    attn = SelfAttention(8, spectral=False)
    with torch.no_grad():
        attn.gamma.fill_(1.0)
    x = torch.randn(1, 8, 6, 6, requires_grad=True)
    attn(x)[0, :, 0, 0].sum().backward()  # one output position...
    assert x.grad[0, :, 5, 5].abs().sum() > 0  # ...depends on the far corner
    _all_params_get_grad(attn)


# -- self-modulated and conditional batch norm ----------------------------------------------
def test_self_modulated_bn_is_plain_bn_at_init_then_depends_on_z():
    torch.manual_seed(0)
    norm = SelfModulatedBatchNorm2d(6, z_dim=4)
    bn = nn.BatchNorm2d(6, affine=False)
    x, z = torch.randn(8, 6, 5, 5), torch.randn(8, 4)
    assert norm.conditional
    assert torch.allclose(norm(x, z), bn(x), atol=1e-6)
    norm(x, z).pow(2).sum().backward()
    _all_params_get_grad(norm)
    with torch.no_grad():
        for mlp in (norm.gamma, norm.beta):
            mlp[2].weight.normal_()
    z.requires_grad_(True)
    out = norm(x, z)
    assert out.shape == x.shape
    assert not torch.allclose(out, norm(x, torch.randn(8, 4)))
    out.sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0


def test_conditional_bn_with_a_vector_in_a_resblock():
    torch.manual_seed(0)
    block = ResBlockUp(8, 4, lambda c: ConditionalBatchNorm2d(c, cond_dim=5))
    x, cond = torch.randn(3, 8, 4, 4, requires_grad=True), torch.randn(3, 5)
    y = block(x, cond)
    assert y.shape == (3, 4, 8, 8)
    y.pow(2).sum().backward()
    assert x.grad is not None
    _all_params_get_grad(block)


def test_class_norm_condition_shared_embedding_and_tables():
    shared, tables = ClassNormCondition(4, embed_dim=6), ClassNormCondition(4, embed_dim=0)
    y = torch.tensor([0, 1, 2, 3])
    assert shared(y).shape == (4, 6) and torch.equal(tables(y), y)
    x = torch.randn(4, 3, 5, 5)
    for cond in (shared, tables):
        norm = cond.norm(3)
        norm.gain.weight.data.normal_()  # a trained layer: the label now changes the output
        out = norm(x, cond(y))
        assert out.shape == x.shape
        assert not torch.allclose(out, norm(x, cond(y.flip(0))))  # the label changes the output
        out.square().sum().backward()
        _all_params_get_grad(nn.ModuleList([cond, norm]))
    with pytest.raises(ValueError, match="num_classes"):
        ClassNormCondition(0)


# -- spectral norm ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: nn.Linear(20, 12), lambda: nn.Conv2d(6, 10, 3)])
def test_spectral_norm_makes_largest_singular_value_one(make):
    torch.manual_seed(0)  # the layer's weights too, whatever ran before
    layer = make()
    with torch.no_grad():
        layer.weight.mul_(5.0)
    wrapped = sn(layer)
    x = torch.randn(4, 20) if isinstance(layer, nn.Linear) else torch.randn(4, 6, 8, 8)
    wrapped.train()
    for _ in range(30):  # one power iteration per forward pass in train mode
        wrapped(x)
    assert largest_singular_value(wrapped.weight) == pytest.approx(1.0, abs=0.02)
    assert largest_singular_value(wrapped.parametrizations.weight.original) > 2.0


# -- residual blocks -------------------------------------------------------------------------
def test_resblock_up_shapes_and_gradients():
    block = ResBlockUp(8, 4, nn.BatchNorm2d, spectral=True)
    x = torch.randn(2, 8, 4, 4, requires_grad=True)
    y = block(x)
    assert y.shape == (2, 4, 8, 8)
    y.sum().backward()
    assert x.grad is not None
    _all_params_get_grad(block)


@pytest.mark.parametrize("first", [True, False])
def test_resblock_down_shapes_and_gradients(first):
    block = ResBlockDown(3, 8, spectral=True, downsample=True, first=first)
    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    y = block(x)
    assert y.shape == (2, 8, 4, 4)
    y.sum().backward()
    assert x.grad is not None
    _all_params_get_grad(block)
    assert ResBlockDown(8, 8, downsample=False)(y).shape == (2, 8, 4, 4)


# -- U-Net blocks and discriminator ----------------------------------------------------------
def test_unet_blocks_shapes_and_gradients():
    down, up = UNetDown(3, 8, first=True), UNetUp(8, 3, 5)
    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    h = down(x)
    assert h.shape == (2, 8, 4, 4)
    out = up(h, x)  # skip from the full-resolution input
    assert out.shape == (2, 5, 8, 8)
    out.sum().backward()
    _all_params_get_grad(down)
    _all_params_get_grad(up)
    assert UNetUp(8, 0, 4)(h).shape == (2, 4, 8, 8)


def test_unet_discriminator_global_and_pixel_outputs():
    d = UNetDiscriminator(UNCOND, width=8).eval()  # eval: no power-iteration update per call
    x = torch.randn(3, 1, 16, 16, requires_grad=True)
    glob, pix = d.forward_both(x)
    assert glob.shape == (3,) and pix.shape == (3, 1, 16, 16)
    assert torch.allclose(d(x), glob, atol=1e-6)
    assert d.features(x).shape == (3, d.feature_dim)
    (glob.sum() + pix.sum()).backward()
    _all_params_get_grad(d)


# -- orthogonal regularisation ---------------------------------------------------------------
def test_orthogonal_penalty_zero_for_orthogonal_rows_and_has_gradient():
    q, _ = torch.linalg.qr(torch.randn(8, 8))
    assert orthogonal_penalty([q[:5]]) == pytest.approx(0.0, abs=1e-10)
    # scaling rows does not matter: only the off-diagonal of W W^T is penalised (Eq. 3)
    assert orthogonal_penalty([3 * q[:5]]) == pytest.approx(0.0, abs=1e-9)
    w = torch.randn(6, 3, 3, 3, requires_grad=True)
    bias = torch.randn(6, requires_grad=True)
    pen = orthogonal_penalty([w, bias], beta=1.0)
    assert pen > 0
    pen.backward()
    assert w.grad is not None and bias.grad is None


# -- latent optimisation ---------------------------------------------------------------------
@pytest.mark.parametrize("method", ["gd", "ngd"])
def test_latent_step_lowers_the_objective(method):
    torch.manual_seed(0)
    G = nn.Linear(4, 3)
    target = torch.randn(3)
    objective = lambda z: (G(z) - target).pow(2).sum(1)  # noqa: E731
    z = torch.randn(16, 4)
    z2 = latent_step(z, objective, step_size=0.1, method=method, steps=3)
    assert z2.shape == z.shape and not z2.requires_grad
    assert objective(z2).mean() < objective(z).mean()
    assert G.weight.grad is None, "latent steps must not leave gradients in the nets"


def test_natural_gradient_step_is_bounded():
    # ||delta|| = a ||g|| / (b + ||g||^2) <= a / (2 sqrt(b)), however steep the objective
    z = torch.zeros(5, 3)
    z2 = latent_step(z, lambda zz: 1e4 * zz.sum(1), step_size=0.9, method="ngd", damping=5.0)
    assert (z2 - z).norm(dim=1).max() <= 0.9 / (2 * 5.0**0.5) + 1e-6


# -- CutMix consistency ----------------------------------------------------------------------
def test_cutmix_mask_and_mix():
    torch.manual_seed(0)
    m = cutmix_mask(32, 16, 16)
    assert m.shape == (32, 1, 16, 16)
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    assert 0.0 < m.mean() < 1.0
    a, b = torch.ones(32, 3, 16, 16), torch.zeros(32, 3, 16, 16)
    assert torch.equal(cutmix(a, b, m), m.expand(-1, 3, -1, -1))


def test_cutmix_consistency_zero_for_pixelwise_critic_and_has_gradient():
    torch.manual_seed(0)
    real, fake = torch.randn(4, 1, 8, 8), torch.randn(4, 1, 8, 8)
    mask = cutmix_mask(4, 8, 8)
    pixelwise = nn.Conv2d(1, 1, 1)  # a per-pixel map commutes with mixing
    with torch.no_grad():
        mixed = pixelwise(cutmix(real, fake, mask))
        cons = cutmix_consistency(mixed, pixelwise(real), pixelwise(fake), mask)
    assert cons.item() == pytest.approx(0.0, abs=1e-10)
    conv = nn.Conv2d(1, 1, 3, padding=1)  # a wider receptive field does not
    cons = cutmix_consistency(conv(cutmix(real, fake, mask)), conv(real), conv(fake), mask)
    assert cons > 0
    cons.backward()
    _all_params_get_grad(conv)


# -- energy pieces, truncation and the nets --------------------------------------------------
def test_pull_away_term():
    assert pull_away_term(torch.eye(4)) == pytest.approx(0.0)
    assert pull_away_term(torch.ones(4, 3)) == pytest.approx(1.0)
    codes = torch.randn(8, 5, requires_grad=True)
    pull_away_term(codes).backward()
    assert codes.grad is not None


def test_autoencoder_critic_energy():
    d = AutoencoderCritic(UNCOND, width=8, code_dim=6, energy="l1")
    x = torch.randn(3, 1, 16, 16)
    recon, code = d.reconstruct(x)
    assert recon.shape == x.shape and code.shape == (3, 6)
    e = d(x)
    assert e.shape == (3,) and (e >= 0).all()
    e.sum().backward()
    _all_params_get_grad(d)
    assert AutoencoderGenerator(UNCOND, z_dim=6, width=8)(torch.randn(2, 6)).shape == (2, 1, 16, 16)


def test_truncate_latent():
    torch.manual_seed(0)
    z = torch.randn(200, 16)
    t = truncate_latent(z, 0.5)
    assert t.abs().max() <= 0.5
    keep = z.abs() <= 0.5
    assert torch.equal(t[keep], z[keep]), "entries inside the threshold are kept"


@pytest.mark.parametrize("deep", [False, True])
def test_biggan_nets_shapes_and_gradients(deep):
    assert split_sizes(30, 3) == [10, 10, 10] and split_sizes(31, 3) == [11, 10, 10]
    G = BigGANGenerator(INFO, z_dim=30, width=4, shared_dim=8, deep=deep)
    D = BigGANDiscriminator(INFO, width=4, cond="projection", deep=deep)
    z, y = torch.randn(3, 30), torch.tensor([0, 4, 9])
    x = G(z, y)
    assert x.shape == (3, 1, 16, 16) and x.abs().max() <= 1
    out = D(x, y)
    assert out.shape == (3,)
    out.sum().backward()
    _all_params_get_grad(G)
    _all_params_get_grad(D)


def test_sagan_and_selfmod_nets_shapes():
    z, y = torch.randn(3, 8), torch.tensor([1, 2, 3])
    G = SAGANGenerator(INFO, z_dim=8, width=8, cond="cbn")
    D = SAGANDiscriminator(INFO, width=8, cond="projection")
    assert G(z, y).shape == (3, 1, 16, 16) and D(G(z, y), y).shape == (3,)
    assert any(isinstance(m, SelfAttention) for m in G.modules())
    assert any(isinstance(m, SelfAttention) for m in D.modules())
    S = SelfModGenerator(UNCOND, z_dim=8, width=8)
    assert S(z).shape == (3, 1, 16, 16)
    assert sum(isinstance(m, SelfModulatedBatchNorm2d) for m in S.modules()) == 2
