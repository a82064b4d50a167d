"""Learned representations (issue 13): encoders and joint discriminators, O-GAN's correlation,
S3GAN's rotations, IC-GAN's instance data and conditioning, and the linear probe."""

import pytest
import torch
from conftest import fit_quietly

from ganarium.checks.representation import linear_probe_accuracy
from ganarium.data import load_dataset
from ganarium.data.instances import instance_features, nearest_neighbours
from ganarium.models import RECIPES
from ganarium.models.ogan import correlation, standardise
from ganarium.nets.encoders import JointDiscriminator, family_body
from ganarium.nn.rotation import rotation_batch

TINY = dict(g_width=8, d_width=8, z_dim=8)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", size=16)


def test_joint_discriminator_scores_pairs_jointly_and_alone(digits):
    D = JointDiscriminator(family_body(digits.info, "dcgan", 8, "batch"), 8, width=16)
    s_xz, s_x, s_z = D(digits.tensors["image"][:4], torch.randn(4, 8))
    assert s_xz.shape == s_x.shape == s_z.shape == (4,)


@pytest.mark.parametrize("name", ["bigan", "bigbigan", "ogan"])
def test_encoders_map_images_to_the_latent_and_back(name, digits):
    recipe = RECIPES.get(name)(digits.info, **TINY)
    history = fit_quietly(recipe, digits, 2)[1]
    assert all(torch.isfinite(torch.tensor(v)) for v in history[-1].values())
    x = digits.tensors["image"][:5]
    z = recipe.encode(x)
    assert z.shape == (5, 8)
    torch.testing.assert_close(recipe.reconstruct(x), recipe.generate(5, z=z))


def test_ogan_correlation_ignores_scale_and_shift():
    z = torch.randn(4, 16)
    torch.testing.assert_close(correlation(z, 3 * z + 2), torch.ones(4))
    torch.testing.assert_close(correlation(z, -z), -torch.ones(4))
    s = standardise(5 * z + 1)
    torch.testing.assert_close(s.mean(1), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(s.pow(2).mean(1), torch.ones(4), atol=1e-4, rtol=0)


def test_rotations_are_labelled_by_quarter_turns():
    x = torch.randn(16, 1, 5, 5)
    rotated, r = rotation_batch(x)
    for i in range(16):
        torch.testing.assert_close(torch.rot90(rotated[i], -int(r[i]), (1, 2)), x[i])


def test_s3gan_trains_on_few_labels_and_samples_classes():
    data = load_dataset("digits", size=16, labels_per_class=2)
    recipe = RECIPES.get("s3gan")(data.info, **TINY)
    history = fit_quietly(recipe, data, 3)[1]
    assert "D/train_acc" in history[-1] and "G/rotation" in history[-1]
    assert recipe.generate(4, labels=torch.tensor([0, 1, 2, 3])).shape == (4, 1, 16, 16)
    assert recipe.extra_state()["memory"]["y"].ge(0).any()


def test_instances_pair_each_instance_with_its_neighbours():
    data = load_dataset("instances", base="digits", size=16, k=5)
    feats = instance_features(data.images)
    assert torch.allclose(feats.norm(dim=1), torch.ones(len(feats)))
    assert (data.neighbours[:, 0] == torch.arange(len(feats))).float().mean() > 0.99  # itself
    torch.manual_seed(0)
    item = data[7]
    j = [int(i) for i in data.neighbours[7]]
    assert any(torch.equal(item["image"], data.images[i]) for i in j)
    assert torch.equal(item["instance"], data.images[7])
    hood = nearest_neighbours(feats[:3], feats, 5)
    assert torch.equal(hood, data.neighbours[:3])


def test_instance_gan_conditions_on_any_image():
    data = load_dataset("instances", base="digits", size=16, k=5)
    recipe = RECIPES.get("instance-gan")(data.info, **TINY, bank_size=20)
    assert recipe.capabilities().instances
    fit_quietly(recipe, data, 2)
    assert int(recipe.bank_filled) == 20
    out = recipe.generate_from_instances(torch.rand(2, 3, 28, 28) * 2 - 1, 3)  # RGB, other size
    assert out.shape == (6, 1, 16, 16) and torch.isfinite(out).all()
    z = torch.randn(4, 8)
    torch.testing.assert_close(recipe.generate(4, z=z), recipe.decode(z))


def test_linear_probe_reads_separable_features():
    y = torch.arange(200) % 4
    x = torch.nn.functional.one_hot(y, 4).float() + 0.1 * torch.randn(200, 4)
    assert linear_probe_accuracy((x[:100], y[:100]), (x[100:], y[100:])) == 1.0
