"""Conditional, information and semi-supervised recipes (issue 3): label-aware sampling, the
no-labels error, conditional batch norm, minibatch discrimination, historical averaging,
one-sided label smoothing, InfoGAN code traversals and IcGAN editing. Their learning checks run
in test_learning.py, which is parametrised over the whole registry."""

import json
import math

import pytest
import torch

from ganarium.cli import main
from ganarium.errors import DataError
from ganarium.models import StepContext
from ganarium.nn.conditioning import LatentConditioner
from ganarium.runs import start_run

FAST = [
    "train.steps=2",
    "train.checkpoint_every=2",
    "train.progress=false",
    "train.tensorboard=false",
    "data.size=16",
    "model.g_width=8",
    "model.d_width=8",
    "train.batch_size=16",
]


def test_conditional_recipe_refuses_unlabelled_data(tmp_path):
    with pytest.raises(DataError, match="needs labelled data"):
        start_run("cgan", "ring8", ["train.steps=1"], run_dir=str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("mode", ["concat", "hadamard"])
def test_latent_fusions(mode):
    cond = LatentConditioner(8, 10, mode)
    z, y = torch.randn(4, 8), torch.tensor([0, 1, 2, 3])
    out = cond(z, y)
    assert out.shape == (4, cond.out_dim) and (cond.out_dim == 16) == (mode == "concat")
    out.sum().backward()
    assert cond.embed.weight.grad.abs().sum() > 0


def test_sample_by_label_and_by_class(tmp_path):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "cgan",
                "--data",
                "digits",
                *FAST,
                "model.g_cond=hadamard",
                "--run-dir",
                str(run),
            ]
        )
        == 0
    )
    assert (
        main(
            ["sample", str(run), "--label", "7", "--n", "16", "--out", str(tmp_path / "sevens.png")]
        )
        == 0
    )
    assert (
        main(
            [
                "sample",
                str(run),
                "--grid-by-class",
                "--n",
                "30",
                "--out",
                str(tmp_path / "rows.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "sevens.png").exists() and (tmp_path / "rows.png").exists()
    assert main(["sample", str(run), "--label", "12"]) == 2


def test_conditional_batch_norm_starts_as_batch_norm_and_learns_per_class():
    from torch import nn

    from ganarium.nn.cond_bn import ConditionalBatchNorm2d

    x, y = torch.randn(6, 4, 5, 5), torch.tensor([0, 1, 2, 0, 1, 2])
    cbn = ConditionalBatchNorm2d(4, num_classes=3)
    plain = nn.BatchNorm2d(4, affine=False)
    assert torch.allclose(cbn(x, y), plain(x), atol=1e-6)  # gains centred at 1, biases at 0
    cbn(x, y).pow(2).mul(torch.arange(4.0)[None, :, None, None]).sum().backward()
    assert cbn.gain.weight.grad.abs().sum() > 0
    vec = ConditionalBatchNorm2d(4, cond_dim=7)
    assert vec(x, torch.randn(6, 7)).shape == x.shape
    with pytest.raises(ValueError, match="exactly one"):
        ConditionalBatchNorm2d(4)


def test_resnet_generator_with_conditional_bn_uses_labels():
    from ganarium.data import load_dataset
    from ganarium.nets.resnet import ResNetGenerator

    g = ResNetGenerator(load_dataset("digits", size=16).info, z_dim=8, width=8, cond="cbn")
    with torch.no_grad():
        for block in g.blocks:
            block.norm1.gain.weight.normal_()
    z = torch.randn(1, 8).repeat(2, 1)
    g.eval()
    out = g(z, torch.tensor([0, 5]))
    assert out.shape == (2, 1, 16, 16) and not torch.allclose(out[0], out[1])


# -- issue 3, second part: shared pieces -------------------------------------------------------
def test_conditional_dcgan_generator_uses_labels_through_its_norms():
    from ganarium.data import load_dataset
    from ganarium.nets.cond_dcgan import CondDCGANGenerator

    info = load_dataset("digits", size=16).info
    for embed_dim in (0, 6):
        g = CondDCGANGenerator(info, z_dim=8, width=8, embed_dim=embed_dim)
        assert g.latent.out_dim == 8  # the label does not enter z
        with torch.no_grad():
            for norm in g.norms:
                norm.bias.weight.normal_()
        z = torch.randn(1, 8).repeat(4, 1)
        out = g(z, torch.tensor([0, 5, 0, 5]))
        assert out.shape == (4, 1, 16, 16)
        assert not torch.allclose(out[0], out[1]) and torch.allclose(out[0], out[2], atol=1e-5)
        out.sum().backward()
        assert g.norms[0].gain.weight.grad is not None
    with pytest.raises(ValueError, match="pass labels"):
        g(z)


def test_minibatch_discrimination_shape_and_batch_dependence():
    from ganarium.nn.minibatch import MinibatchDiscrimination

    mbd = MinibatchDiscrimination(10, num_kernels=5, kernel_dim=3)
    f = torch.randn(7, 10, requires_grad=True)
    out = mbd(f)
    assert out.shape == (7, 15) == (7, mbd.out_features)
    assert torch.equal(out[:, :10], f)
    # a sample's statistics depend on the rest of its batch; alone it compares with nobody
    assert torch.allclose(mbd(f[:1])[:, 10:], torch.zeros(1, 5))
    assert not torch.allclose(mbd(f[:3])[0], out[0])
    out.sum().backward()
    assert mbd.T.grad.abs().sum() > 0 and f.grad is not None


def test_historical_average_penalises_distance_from_the_running_mean():
    from torch import nn

    from ganarium.techniques.improved import HistoricalAverage

    lin = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(1.0)
    ha = HistoricalAverage(lin.parameters())
    assert float(ha.penalty().detach()) == 0.0
    with torch.no_grad():
        lin.weight.fill_(3.0)
    ha.update()  # average of 1 and 3 = 2
    assert torch.allclose(ha.average[0], torch.full((1, 2), 2.0))
    assert float(ha.penalty().detach()) == pytest.approx(2.0)  # (3-2)^2 * 2 weights
    ha.penalty().backward()
    assert torch.allclose(lin.weight.grad, torch.full((1, 2), 2.0))


def test_one_sided_label_smoothing_targets():
    import torch.nn.functional as F

    from ganarium.techniques.improved import one_sided_smoothed_d_loss, smoothed_real_target
    from ganarium.techniques.losses import minimax_d

    assert smoothed_real_target(0.1) == pytest.approx(0.9)
    with pytest.raises(ValueError):
        smoothed_real_target(1.0)
    real, fake = torch.randn(5), torch.randn(5)
    assert torch.allclose(one_sided_smoothed_d_loss(real, fake, 0.0), minimax_d(real, fake))
    want = F.binary_cross_entropy_with_logits(real, torch.full((5,), 0.9)) + F.softplus(fake).mean()
    assert torch.allclose(one_sided_smoothed_d_loss(real, fake, 0.1), want)
    # only reals are smoothed: the optimum logit for a real is log(0.9/0.1), not +inf
    logit = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([logit], lr=1.0)
    for _ in range(500):
        opt.zero_grad()
        one_sided_smoothed_d_loss(logit, torch.full((1,), -20.0), 0.1).backward()
        opt.step()
    assert float(logit.detach()) == pytest.approx(math.log(9), abs=1e-2)


def test_label_memory_keeps_labelled_examples_only():
    from ganarium.models._labelled import LabelMemory

    mem = LabelMemory(capacity=4)
    assert mem.sample(3) is None
    mem.add(torch.arange(6.0)[:, None], torch.tensor([-1, 1, -1, 3, -1, -1]))
    x, y = mem.sample(50)
    assert set(y.tolist()) == {1, 3} and torch.equal(x[:, 0].long(), y)
    mem.add(torch.arange(10.0, 16.0)[:, None], torch.tensor([0, 1, 2, 3, 4, 5]))  # wraps
    assert (mem.y >= 0).all() and len(mem.y) == 4


# -- recipes -------------------------------------------------------------------------------
def _tiny(name: str, tmp_path, *extra: str):
    from ganarium.checks import learning_check

    check = learning_check(name)
    items = [f"data.{k}={v}" for k, v in check.data_options.items()]
    items += ["model.g_width=8", "model.d_width=8", "model.z_dim=8", *extra]
    run = tmp_path / name
    trainer = start_run(
        name, "digits", items + FAST[:4] + ["train.batch_size=16"], run_dir=str(run)
    )
    trainer.fit()
    return trainer.recipe, run


@pytest.mark.parametrize(
    "name",
    [
        "cgan-projection",
        "acgan",
        "tacgan",
        "adcgan",
        "ssgan",
        "icgan",
        "sagan-conditional",
        "triplegan",
    ],
)
def test_labelled_recipes_refuse_unlabelled_data(name, tmp_path):
    with pytest.raises(DataError, match="needs labelled data"):
        start_run(name, "ring8", ["train.steps=1"], run_dir=str(tmp_path / "r"))


def test_infogan_code_traversal_grid(tmp_path):
    from ganarium.errors import ConfigError

    recipe, run = _tiny("infogan", tmp_path)
    x, nrow = recipe.code_traversal("c1")
    assert x.shape == (10 * 10, 1, 16, 16) and nrow == 10
    # a row holds one categorical value with the same noise: only the varied code changes
    row = x[:10]
    assert not torch.allclose(row[0], row[-1])
    x_cat, k = recipe.code_traversal("cat")
    assert x_cat.shape == (100, 1, 16, 16) and k == 10
    with pytest.raises(ConfigError, match="unknown code"):
        recipe.code_traversal("c9")
    out = tmp_path / "c1.png"
    assert main(["sample", str(run), "--vary-code", "c2", "--out", str(out)]) == 0 and out.exists()


def test_infogan_information_term_trains_q():
    from ganarium.data import load_dataset
    from ganarium.models import RECIPES

    torch.manual_seed(0)
    info = load_dataset("digits", size=16).info
    recipe = RECIPES.get("infogan")(info, g_width=8, d_width=8, z_dim=8)
    opt = recipe.configure_optimizers()["D"]
    h = torch.randn(32, recipe.D.feature_dim)
    cat, cont = recipe.sample_codes(32, "cpu")
    first, _ = recipe.info_loss(h, cat, cont)
    for _ in range(100):
        opt.zero_grad()
        recipe.info_loss(h, cat, cont)[0].backward()
        opt.step()
    assert recipe.info_loss(h, cat, cont)[0] < first - 1.0


def test_icgan_edit_and_reconstruct_shapes(tmp_path):
    recipe, run = _tiny("icgan", tmp_path)
    x = torch.rand(1, 1, 16, 16) * 2 - 1
    edited = recipe.edit(x, 7)
    assert edited.shape == (1, 1, 16, 16) and edited.abs().max() <= 1
    assert recipe.reconstruct(torch.rand(3, 1, 16, 16)).shape == (3, 1, 16, 16)
    from torchvision.utils import save_image

    save_image(x * 0.5 + 0.5, tmp_path / "in.png")
    out = tmp_path / "edited.png"
    assert (
        main(
            [
                "edit",
                str(run),
                "--image",
                str(tmp_path / "in.png"),
                "--label",
                "7",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert out.exists()


@pytest.mark.parametrize("name", ["ssgan", "triplegan"])
def test_semi_supervised_recipes_train_with_few_labels(name, tmp_path):
    recipe, _ = _tiny(name, tmp_path)
    assert (recipe.memory.y >= 0).sum() > 0  # labelled examples were collected
    logits = recipe.classifier()(torch.rand(5, 1, 16, 16))
    assert logits.shape == (5, 10)
    fresh = recipe.make_classifier()
    assert sum(p.numel() for p in fresh.parameters()) == sum(
        p.numel() for p in recipe.classifier().parameters()
    )


def test_ssgan_improved_techniques_switch_on(tmp_path):
    recipe, _ = _tiny(
        "ssgan",
        tmp_path,
        "model.minibatch_kernels=4",
        "model.historical_weight=0.01",
        "model.label_smoothing=0.1",
        "model.feature_matching=false",
    )
    assert recipe.history and recipe.history["D"].count > 1
    assert recipe.classifier()(torch.rand(3, 1, 16, 16)).shape == (3, 10)


def test_conditional_checks_reject_collapsed_and_accept_good_measures():
    from ganarium.checks import CHECK_KINDS
    from ganarium.checks.conditional import cluster_purity

    assert cluster_purity(torch.tensor([0, 0, 1, 1]), torch.tensor([3, 3, 3, 5])) == 0.75
    judge = CHECK_KINDS.get("infogan-purity").judge
    before = {"purity": 1.0, "domain_fid": 400.0, "classes_covered": 1.0}
    bars = {"purity": 0.6, "fid_ratio": 0.5, "classes_covered": 9}
    assert judge(before, before, bars)  # a collapsed model is pure but fails FID and coverage
    good = {"purity": 0.7, "domain_fid": 50.0, "classes_covered": 10.0}
    assert not judge(before, good, bars)
    semi = CHECK_KINDS.get("semi-supervised").judge
    assert semi({}, {"accuracy": 0.80, "baseline": 0.70}, {"margin": 0.05}) == []
    assert semi({}, {"accuracy": 0.74, "baseline": 0.70}, {"margin": 0.05})


def _tiny_triplegan(**hp):
    from ganarium.data import load_dataset
    from ganarium.models import RECIPES

    torch.manual_seed(0)
    data = load_dataset("digits", size=16, labels_per_class=10)
    recipe = RECIPES.get("triplegan")(data.info, g_width=8, d_width=8, c_width=8, z_dim=8, **hp)
    return recipe, data


def test_triplegan_pseudo_discriminative_loss_starts_at_its_step(tmp_path):
    run = tmp_path / "triplegan"
    items = ["data.labels_per_class=10", "model.g_width=8", "model.d_width=8", "model.z_dim=8"]
    items += ["model.c_width=8", "model.pseudo_start=2", "train.steps=4", "train.log_every=2"]
    trainer = start_run("triplegan", "digits", items + FAST[1:], run_dir=str(run))
    trainer.fit()
    records = [
        json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line
    ]
    by_step = {r["step"]: r for r in records if "step" in r}
    assert "C/pseudo" not in by_step[2]  # steps 1-2: R_P still off
    assert "C/pseudo" in by_step[4] and math.isfinite(by_step[4]["C/pseudo"])


class _LabelD(torch.nn.Module):
    """A D whose score of a pair (x, y) is ``score[y]``, whatever x is; it records the pairs."""

    def __init__(self, score: list[float]) -> None:
        super().__init__()
        self.score = torch.nn.Parameter(torch.tensor(score))
        self.pairs: list[tuple[int, int]] = []

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.pairs += [(int(x[i].sum()), int(y[i])) for i in range(len(y))]
        return self.score[y] + 0.0 * x.flatten(1).sum(1)


def _c_pairs_seen(c_pairs: str, fake: bool, score: list[float]):
    """C believes 3/4 in label 2 and 1/4 in label 5 for four images (image i sums to i);
    returns (pairs D saw, d loss / d score, d loss / d C's logits)."""
    recipe, _ = _tiny_triplegan(c_pairs=c_pairs)
    recipe.D = _LabelD(score)
    x = torch.arange(4.0)[:, None, None, None].expand(4, 1, 16, 16) / 256
    logits = torch.full((4, 10), -1e4)
    logits[:, 2], logits[:, 5] = math.log(3.0), 0.0
    logits.requires_grad_(True)
    recipe._c_pair_loss(x, logits, fake=fake).backward()
    return recipe.D.pairs, _grad(recipe.D.score), _grad(logits)


def _grad(t: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(t) if t.grad is None else t.grad


@pytest.mark.parametrize("fake", [True, False])
def test_triplegan_scores_cs_pairs_with_every_label_or_cs_label(fake):
    """Triple-GAN (Li et al. 2017): D judges (x, y ~ p_c(y|x)); ``expectation`` scores x with
    every label, ``argmax`` with C's label alone."""
    every, _, _ = _c_pairs_seen("expectation", fake, [0.0] * 10)
    assert sorted(every) == [(i, k) for i in range(4) for k in range(10)]
    argmax, _, _ = _c_pairs_seen("argmax", fake, [0.0] * 10)
    assert sorted(argmax) == [(i, 2) for i in range(4)]


def test_triplegan_d_treats_cs_pairs_as_fake_in_proportion_to_cs_belief():
    _, grad, _ = _c_pairs_seen("expectation", True, [0.0] * 10)
    assert (grad[[2, 5]] > 0).all()  # a D step lowers its score of C's pairs
    assert grad[2] == pytest.approx(3 * grad[5])  # label 2 is 3 times as likely as label 5
    assert (grad[[0, 1, 3, 4, 6, 7, 8, 9]] == 0).all()  # labels C rules out do not count
    _, grad, _ = _c_pairs_seen("argmax", True, [0.0] * 10)
    assert grad[2] > 0 and (grad[torch.arange(10) != 2] == 0).all()  # C's label alone


def test_triplegan_c_moves_towards_the_labels_d_accepts():
    accepts_5 = [-4.0] * 10
    accepts_5[5] = 4.0
    _, grad, logits_grad = _c_pairs_seen("expectation", False, accepts_5)
    assert grad[5] < 0  # C's loss falls as D scores its pairs more real
    assert (logits_grad[:, 5] < logits_grad[:, 2]).all()  # a C step shifts belief from 2 to 5
    # argmax: C's label is 2 and D rejects it; the only gradient is C's confidence in it, which
    # a C step lowers, and less so when D accepts the label
    _, _, rejected = _c_pairs_seen("argmax", False, accepts_5)
    assert (rejected[:, 2] > 0).all()
    _, _, accepted = _c_pairs_seen("argmax", False, [4.0] * 10)
    assert (accepted[:, 2].abs() < rejected[:, 2].abs()).all()


def test_triplegan_steps_before_any_label_is_seen():
    recipe, data = _tiny_triplegan()
    batch = {"image": data.tensors["image"][:8], "label": torch.full((8,), -1)}
    ctx = StepContext(step=0, total_steps=10)
    for loss_fn in (recipe.d_loss, recipe.c_loss, recipe.g_loss):
        loss, _ = loss_fn(batch, ctx)
        assert torch.isfinite(loss)
    recipe.c_loss(batch, ctx)[0].backward()
    assert recipe.C.head.weight.grad is not None  # the unlabelled terms still train C


def test_entropy_and_class_balance_regularizers():
    from ganarium.techniques.regularizers import class_balance, prediction_entropy

    uniform, confident = torch.zeros(4, 10), torch.eye(10)[:4] * 50
    assert prediction_entropy(uniform).item() == pytest.approx(math.log(10))
    assert prediction_entropy(confident).item() == pytest.approx(0.0, abs=1e-6)
    one_class = torch.eye(10)[[3, 3, 3, 3]] * 50  # confident, all in class 3
    spread = torch.eye(10) * 50  # confident, one example per class
    assert class_balance(spread).item() == pytest.approx(math.log(10), abs=1e-4)
    assert class_balance(one_class) > class_balance(spread) + 5


def test_semi_supervised_conditional_check_needs_both_classifier_and_samples():
    from ganarium.checks import CHECK_KINDS

    judge = CHECK_KINDS.get("semi-supervised-conditional").judge
    bars = {"margin": 0.05, "fid_ratio": 0.5, "class_accuracy": 0.85}
    before = {"domain_fid": 400.0}
    good = {"accuracy": 0.88, "baseline": 0.80, "domain_fid": 40.0, "class_accuracy": 0.9}
    assert judge(before, good, bars) == []
    assert judge(before, {**good, "accuracy": 0.84}, bars)  # classifier not better enough
    assert judge(before, {**good, "class_accuracy": 0.5}, bars)  # samples ignore the label
    assert judge(before, {**good, "domain_fid": 300.0}, bars)  # samples poor


@pytest.mark.parametrize(
    "hp, message",
    [
        ({"c_pairs": "integrate"}, "choose one of argmax, expectation"),
        ({"alpha": 1.5}, "must be in"),
        ({"loss": "hinge"}, "log-loss"),
        ({"consistency_weight": -1.0}, "must be >= 0"),
        ({"teacher_decay": 1.0}, "in \\[0, 1\\)"),
    ],
)
def test_triplegan_rejects_bad_settings(hp, message):
    from ganarium.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        _tiny_triplegan(**hp)


def test_triplegan_mean_teacher_follows_c_and_is_the_classifier_users_get():
    recipe, data = _tiny_triplegan(consistency_weight=10.0, teacher_decay=0.5)
    assert recipe.classifier() is recipe.C_teacher
    assert not any(p.requires_grad for p in recipe.C_teacher.parameters())
    batch = {"image": data.tensors["image"][:8], "label": data.tensors["label"][:8]}
    ctx = StepContext(step=1000, total_steps=2000)  # past the ramp: the term counts in full
    loss, logs = recipe.c_loss(batch, ctx)
    assert "consistency" in logs and torch.isfinite(loss)
    with torch.no_grad():
        for p in recipe.C.parameters():
            p.add_(1.0)
    before = [p.clone() for p in recipe.C_teacher.parameters()]
    recipe._update_teacher(ctx)
    for p_t, p_0, p in zip(recipe.C_teacher.parameters(), before, recipe.C.parameters()):
        torch.testing.assert_close(p_t, 0.5 * p_0 + 0.5 * p)  # decay 0.5: halfway to C
    plain, _ = _tiny_triplegan(consistency_weight=0.0)
    assert plain.classifier() is plain.C and not hasattr(plain, "C_teacher")
    assert "consistency" not in plain.c_loss(batch, ctx)[1]


def test_consistency_mse_and_its_ramp():
    from ganarium.techniques.regularizers import consistency_mse

    logits = torch.randn(4, 10, requires_grad=True)
    assert consistency_mse(logits, logits.detach().clone()).item() == 0.0
    teacher = torch.randn(4, 10, requires_grad=True)
    consistency_mse(logits, teacher).backward()
    assert teacher.grad is None and logits.grad is not None  # the teacher is a fixed target
    recipe, _ = _tiny_triplegan(consistency_rampup=100)
    ramps = []
    for step in (0, 50, 100, 500):
        ramps.append(recipe.consistency_ramp.at(step))
    assert ramps[0] == pytest.approx(math.exp(-5)) and ramps[2] == ramps[3] == 1.0
    assert ramps[0] < ramps[1] < ramps[2]


def test_classifier_jitter_shifts_each_image_by_whole_pixels():
    from ganarium.nets.classifier import random_shift

    torch.manual_seed(0)
    x = torch.arange(64.0).view(1, 1, 8, 8).repeat(16, 2, 1, 1)
    out = random_shift(x, 2)
    assert out.shape == x.shape
    for img in out:  # a shifted window of the border-padded image, the same for every channel
        torch.testing.assert_close(img[0], img[1])
        padded = torch.nn.functional.pad(x[:1, :1], (2,) * 4, mode="replicate")[0, 0]
        windows = [padded[dy : dy + 8, dx : dx + 8] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(img[0], w) for w in windows)
    assert len({tuple(o[0, 3].tolist()) for o in out}) > 1  # offsets differ between images
    recipe, _ = _tiny_triplegan(c_jitter=1)
    c, digits = recipe.make_classifier().eval(), torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(c(digits), c(digits))  # no jitter (nor noise) at test time
    assert not torch.equal(c.train()(digits), c(digits))
