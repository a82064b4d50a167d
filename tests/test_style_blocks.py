"""The building blocks of the progressive and style-based GANs, each by its defining property."""

import math

import pytest
import torch
from torch import nn

from ganarium.nn.filters import Blur, Downsample, Upsample, fir_kernel
from ganarium.nn.minibatch import MinibatchStddev
from ganarium.nn.progressive import GrowthSchedule, fade_in
from ganarium.nn.style import (
    LRELU_GAIN,
    AdaIN,
    ConstantInput,
    EqualizedConv2d,
    EqualizedLinear,
    MappingNetwork,
    ModulatedConv2d,
    NoiseInput,
    ResidualDownBlock,
    pixel_norm,
    skip_output,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_equalized_layers_keep_unit_variance_at_init():
    x = torch.randn(4096, 256)
    assert EqualizedLinear(256, 256)(x).var().item() == pytest.approx(1.0, rel=0.1)
    # with the He gain, a stack of leaky-ReLU layers neither explodes nor vanishes
    h = x
    for _ in range(8):
        h = nn.functional.leaky_relu(EqualizedLinear(256, 256, LRELU_GAIN)(h), 0.2)
    assert 0.3 < h.pow(2).mean().item() < 3.0
    conv = EqualizedConv2d(32, 32, 3)
    assert conv(torch.randn(64, 32, 8, 8))[:, :, 1:-1, 1:-1].var().item() == pytest.approx(
        1.0, rel=0.1
    )


def test_equalized_lr_scales_the_gradient_step_not_the_init():
    # lr_mul slows a layer: the same parameter step moves its effective weight lr_mul times as
    # far, while its effective weights at init are distributed alike
    fast, slow = EqualizedLinear(16, 16), EqualizedLinear(16, 16, lr_mul=0.01)
    with torch.no_grad():
        assert float((slow.weight * slow.scale).std()) == pytest.approx(
            float((fast.weight * fast.scale).std()), rel=0.3
        )
        x = torch.randn(8, 16)
        before = slow(x), fast(x)
        for layer in (slow, fast):
            layer.weight.add_(1.0)
        moved_slow, moved_fast = (slow(x) - before[0]).abs(), (fast(x) - before[1]).abs()
    torch.testing.assert_close(moved_slow, 0.01 * moved_fast, rtol=1e-3, atol=1e-6)


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    y = pixel_norm(torch.randn(4, 16, 5, 5) * 7)
    torch.testing.assert_close(y.pow(2).mean(1), torch.ones(4, 5, 5), rtol=1e-4, atol=1e-4)


def test_minibatch_stddev_appends_the_group_spread():
    layer = MinibatchStddev(group_size=4)
    same = torch.randn(1, 3, 4, 4).expand(8, -1, -1, -1)
    out = layer(same)
    assert out.shape == (8, 4, 4, 4)
    assert out[:, -1].abs().max() < 1e-3  # identical samples: no spread
    varied = torch.randn(8, 3, 4, 4)
    stat = layer(varied)[:, -1]
    assert stat.min() > 0.3  # constant within a sample's map, and the same for its group
    assert torch.allclose(stat[0], stat[0, 0, 0].expand(4, 4))
    torch.testing.assert_close(stat[0], stat[2])  # sample i is in group i % (B / g)
    torch.testing.assert_close(torch.cat([varied, stat[:, None]], 1), layer(varied))


def test_fade_in_starts_at_the_old_output_and_ends_at_the_new():
    old, new = torch.randn(2, 1, 8, 8), torch.randn(2, 1, 8, 8)
    assert torch.equal(fade_in(old, new, 0.0), old)
    assert torch.equal(fade_in(old, new, 1.0), new)
    torch.testing.assert_close(fade_in(old, new, 0.25), 0.75 * old + 0.25 * new)


def test_growth_schedule_is_a_function_of_the_step():
    s = GrowthSchedule(levels=3, fade_steps=10, stable_steps=20)
    assert s.at(0) == (0, 1.0) and s.at(19) == (0, 1.0)
    assert s.at(20) == (1, 0.0) and s.at(25) == (1, 0.5) and s.at(30) == (1, 1.0)
    assert s.at(50) == (2, 0.0) and s.at(60) == (2, 1.0) and s.at(10_000) == (2, 1.0)
    assert s.final_step() == 60
    alphas = [s.at(t) for t in range(80)]
    assert alphas == sorted(alphas)  # (level, alpha) never goes back


def test_progan_generator_fade_in_at_alpha_zero_is_the_old_resolution_upsampled():
    from ganarium.data import DataInfo
    from ganarium.nets.progan import ProGANDiscriminator, ProGANGenerator

    info = DataInfo("x", (1, 16, 16))
    G, D = ProGANGenerator(info, 8, 16), ProGANDiscriminator(info, 16)
    z = torch.randn(4, 8)
    old = nn.functional.interpolate(G(z, 1), scale_factor=2, mode="nearest")
    torch.testing.assert_close(G(z, 2, 0.0), old)
    x = torch.randn(4, 1, 16, 16)
    torch.testing.assert_close(D(x, 2, 0.0), D(nn.functional.avg_pool2d(x, 2), 1))
    assert G(z, 2, 1.0).shape == (4, 1, 16, 16) and D(x, 2, 0.5).shape == (4,)


def test_mapping_network_tracks_the_mean_w_and_truncation_pulls_towards_it():
    mapping = MappingNetwork(8, 16, layers=2, beta=0.0)  # beta 0: w_avg is the last batch mean
    w = mapping(torch.randn(64, 8), track=True)
    torch.testing.assert_close(mapping.w_avg, w.mean(0))
    torch.testing.assert_close(mapping.truncate(w, 1.0), w)
    torch.testing.assert_close(mapping.truncate(w, 0.0), mapping.w_avg.expand_as(w))
    assert mapping.truncate(w, 0.5).var(0).mean() < 0.3 * w.var(0).mean()
    # the input is normalised first: z and 3 z map to the same w
    z = torch.randn(4, 8)
    torch.testing.assert_close(mapping(3 * z), mapping(z))


def test_adain_sets_each_channel_to_the_styles_scale_and_bias():
    ada = AdaIN(6, 10)
    x, w = torch.randn(3, 6, 8, 8) * 5 + 2, torch.randn(3, 10)
    y = ada(x, w)
    torch.testing.assert_close(y.mean((2, 3)), ada.shift(w), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(
        y.std((2, 3), unbiased=False), ada.scale(w).abs(), rtol=1e-3, atol=1e-3
    )


def test_noise_input_starts_off_and_is_shared_by_the_channels():
    layer = NoiseInput(4)
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(layer(x), x)  # strength 0 at init
    with torch.no_grad():
        layer.strength.fill_(1.0)
    noise = torch.randn(2, 1, 5, 5)
    added = layer(x, noise) - x
    torch.testing.assert_close(added, noise.expand(-1, 4, -1, -1))


def test_constant_input_ignores_the_batch():
    const = ConstantInput(8, 4)
    out = const(5)
    assert out.shape == (5, 8, 4, 4) and torch.equal(out[0], out[4])


def test_demodulated_weights_have_unit_norm_per_output_channel():
    conv = ModulatedConv2d(8, 6, 3, w_dim=10)
    style = conv.affine(torch.randn(4, 10))
    w = conv.modulated_weight(style)  # (B, out, in, k, k)
    torch.testing.assert_close(w.pow(2).sum((2, 3, 4)), torch.ones(4, 6), rtol=1e-4, atol=1e-4)
    assert conv(torch.randn(4, 8, 5, 5), torch.randn(4, 10)).shape == (4, 6, 5, 5)


def test_modulated_conv_with_unit_styles_is_a_plain_conv_per_sample():
    conv = ModulatedConv2d(3, 5, 3, w_dim=4, demodulate=False)
    with torch.no_grad():  # style 1 for every w
        conv.affine.weight.zero_()
    x = torch.randn(2, 3, 6, 6)
    plain = nn.functional.conv2d(x, conv.weight * conv.scale, padding=1)
    torch.testing.assert_close(conv(x, torch.randn(2, 4)), plain, rtol=1e-4, atol=1e-5)
    # a sample's output depends on its own style only (grouped convolution)
    a, b = torch.randn(2, 4), torch.randn(2, 4)
    conv2 = ModulatedConv2d(3, 5, 3, w_dim=4)
    b[0] = a[0]
    torch.testing.assert_close(conv2(x, a)[0], conv2(x, b)[0])


def test_fir_filters_keep_constant_images_constant():
    k = fir_kernel()
    assert k.sum().item() == pytest.approx(1.0) and torch.equal(k, k.t())
    flat = torch.full((1, 2, 8, 8), 0.7)
    torch.testing.assert_close(Blur()(flat)[..., 2:-2, 2:-2], flat[..., 2:-2, 2:-2])
    up = Upsample()(flat)
    assert up.shape == (1, 2, 16, 16)
    torch.testing.assert_close(up[..., 2:-2, 2:-2], torch.full((1, 2, 12, 12), 0.7))
    down = Downsample()(flat)
    assert down.shape == (1, 2, 4, 4)
    torch.testing.assert_close(down[..., 1:-1, 1:-1], torch.full((1, 2, 2, 2), 0.7))
    # the blur is a low-pass filter: it damps the highest frequency (a checkerboard) to zero
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None]) % 2 * 2.0 - 1
    assert Blur()(checker[None, None])[..., 2:-2, 2:-2].abs().max() < 1e-6


def test_skip_generator_adds_each_resolution_to_the_upsampled_coarser_image():
    up = Upsample()
    coarse, fine = torch.randn(2, 1, 4, 4), torch.zeros(2, 1, 8, 8)
    torch.testing.assert_close(skip_output(coarse, fine, up), up(coarse))
    assert torch.equal(skip_output(None, fine, up), fine)


def test_residual_block_is_the_scaled_sum_of_its_branches():
    block = ResidualDownBlock(4, 8)
    x = torch.randn(2, 4, 8, 8)
    out = block(x)
    assert out.shape == (2, 8, 4, 4)
    torch.testing.assert_close(out, (block.main(x) + block.skip(x)) / math.sqrt(2))
    with torch.no_grad():  # with the main branch off, only the (downsampled) skip path is left
        block.main[2].weight.zero_()
        block.main[2].bias.fill_(-1.0)  # leaky ReLU of -1 is -0.2: subtract it to compare
    torch.testing.assert_close(
        block(x), (block.skip(x) + block.main[4](torch.full((2, 8, 8, 8), -0.2))) / math.sqrt(2)
    )


def test_conditioning_augmentation_kl_is_averaged_over_dimensions():
    from ganarium.nets.stackgan import kl_to_standard_normal

    for dims in (4, 64):
        zero = torch.zeros(3, dims)
        assert float(kl_to_standard_normal(zero, zero)) == 0.0  # N(0, I) itself
        # KL(N(1, 1) || N(0, 1)) = 1/2 per dimension: the mean, whatever the size of c
        torch.testing.assert_close(kl_to_standard_normal(zero + 1, zero), torch.tensor(0.5))
        # sigma^2 = e: (e - 1 - 1) / 2 per dimension
        torch.testing.assert_close(
            kl_to_standard_normal(zero, zero + 1), torch.tensor((math.e - 2) / 2)
        )


def test_matching_discriminator_joins_the_text_at_every_location_of_the_4x4_map():
    from ganarium.data import DataInfo
    from ganarium.nets.stackgan import MatchingDiscriminator

    D = MatchingDiscriminator(DataInfo("x", (1, 16, 16)), embedding_dim=6, width=4, text_dim=3)
    x, e = torch.randn(5, 1, 16, 16), torch.randn(5, 6)
    assert D(x, e).shape == (5,)
    assert D.joint[0].in_channels == D.channels + 3 and D.r0 == 4
    assert not torch.allclose(D(x, e), D(x, e.roll(1, 0)))  # the caption changes the score
    with torch.no_grad():  # no text weights in the joint conv: the text no longer matters
        D.joint[0].weight[:, D.channels :] = 0
    torch.testing.assert_close(D(x, e), D(x, e.roll(1, 0)))
