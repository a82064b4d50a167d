"""Many networks as nets, optimizers and phases (issue 13): branched layers, GMAN's
aggregations, MAD-GAN's generators, CoGAN's coupled pairs and their two-domain data."""

import dataclasses

import pytest
import torch
from conftest import fit_quietly

from ganarium.checks.ensemble import histogram_distance
from ganarium.data import load_dataset
from ganarium.models import RECIPES
from ganarium.models.gman import aggregate
from ganarium.nets.branched import BranchedDiscriminator, BranchedGenerator
from ganarium.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganarium.nn.branches import LayerBank, routed


def _info(name="digits", **opts):
    if name != "grid25":
        opts.setdefault("size", 16)
    data = load_dataset(name, **opts)
    return data, data.info


def test_a_layer_bank_routes_each_row_through_its_own_copy():
    bank = LayerBank(torch.nn.Linear(3, 2), 3)
    h, route = torch.randn(6, 3), torch.tensor([0, 1, 2, 2, 1, 0])
    with routed(bank, route, 6):
        out = bank(h)
    for i, k in enumerate(route):
        torch.testing.assert_close(out[i], bank.layers[int(k)](h[i]))
    assert not torch.equal(bank.layers[0].weight, bank.layers[1].weight)  # fresh copies
    with pytest.raises(RuntimeError, match="routed"):
        bank(h)


def test_branched_nets_share_all_but_one_layer():
    info = dataclasses.replace(_info()[1], num_classes=0)
    G = BranchedGenerator(DCGANGenerator(info, z_dim=8, width=8), 3)
    z = torch.randn(4, 8)
    G.eval()
    outs = [G(z, None, k) for k in range(3)]
    assert not torch.allclose(outs[0], outs[1])
    mixed = G(z, None, torch.tensor([0, 1, 2, 0]))
    torch.testing.assert_close(mixed[1], outs[1][1])
    shared = [n for n, _ in G.named_parameters() if "bank" not in n]
    assert len(shared) > 2 and len(G.bank.layers) == 3
    D = BranchedDiscriminator(DCGANDiscriminator(info, width=8), 2)
    x = torch.rand(4, 1, 16, 16) * 2 - 1
    assert D(x, 0).shape == (4,) and not torch.allclose(D(x, 0), D(x, 1))


def test_gman_aggregations_span_the_mean_and_the_max():
    losses = torch.tensor([0.2, 1.0, 3.0])
    assert aggregate(losses, "mean", 0.0) == pytest.approx(losses.mean())
    assert aggregate(losses, "max", 0.0) == pytest.approx(3.0)
    assert aggregate(losses, "soft-mean", 0.0) == pytest.approx(losses.mean())
    assert aggregate(losses, "soft-mean", 50.0) == pytest.approx(3.0, abs=1e-3)
    soft = aggregate(losses, "soft-mean", 1.0)
    assert losses.mean() < soft < 3.0


def test_gman_trains_n_discriminators_with_their_own_phases_and_learns_lambda():
    data, info = _info("grid25", n=512)
    recipe = RECIPES.get("gman")(
        info, n_discriminators=3, aggregation="learned", g_width=16, d_width=16, z_dim=4, lr_g=0.05
    )
    trainer, history = fit_quietly(recipe, data, 2)
    assert [ph.name for ph in trainer.phases] == ["D0", "D1", "D2", "G"]
    assert set(trainer.optimizers) == {"G", "D0", "D1", "D2"}
    assert history[-1]["lambda"] != pytest.approx(1.0)  # G moved its own lambda
    assert "G/L2" in history[-1]


def test_madgan_draws_each_generator_and_its_d_names_them():
    data, info = _info("grid25", n=512)
    recipe = RECIPES.get("madgan")(info, n_generators=4, g_width=16, d_width=16, z_dim=4)
    fit_quietly(recipe, data, 2)
    assert recipe.D.head.out_features == 5
    z = torch.randn(8, 4)
    which = torch.arange(8) % 4
    torch.testing.assert_close(recipe.generate(8, z=z, generator=which), recipe.decode(z))
    only_one = recipe.generate(8, z=z, generator=torch.full((8,), 3))
    assert not torch.allclose(only_one[:3], recipe.decode(z)[:3])


def test_histogram_distance_is_zero_for_equal_groups_and_one_for_disjoint():
    labels = torch.tensor([0, 1, 0, 1, 2, 3, 2, 3])
    assert histogram_distance(labels[:4], torch.tensor([0, 0, 1, 1]), 4) == 0.0
    assert histogram_distance(labels, torch.tensor([0] * 4 + [1] * 4), 4) == 1.0


def test_two_domain_digits_are_disjoint_halves_with_b_transformed():
    data, info = _info("digits-negative")
    t = data.tensors
    assert info.pairing == "unpaired" and info.shape_b == (1, 16, 16)
    assert len(t["image"]) == len(t["image_b"]) == 2000
    digits = load_dataset("digits", size=16).tensors["image"]
    flat = digits.flatten(1)
    # every B is the negative of a digit, and no A digit's negative is among the B's
    b = (-t["image_b"]).flatten(1)
    assert (torch.cdist(b[:50], flat).min(1).values < 0.05).all()
    assert (torch.cdist(t["image"][:50].flatten(1), b).min(1).values > 1e-3).all()
    assert (t["label"] != t["label_b"]).any()


def test_cogan_pairs_come_from_one_z():
    data, info = _info("digits-negative")
    recipe = RECIPES.get("cogan")(info, g_width=8, d_width=8, z_dim=8)
    fit_quietly(recipe, data, 2)
    z = torch.randn(3, 8)
    a, b = recipe.generate_pairs(3, z=z)
    torch.testing.assert_close(a, recipe.generate(3, z=z))
    assert a.shape == b.shape == (3, 1, 16, 16) and not torch.allclose(a, b)
    with pytest.raises(Exception, match="two domains"):
        RECIPES.get("cogan")(_info()[1])
