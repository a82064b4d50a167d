"""The Trainer's speed switches (issue 26), each checked for what it computes on the CPU:
``train.channels_last``, ``train.compile`` (phases that take input gradients run eager),
``train.optimizer_impl``, the fp16 path's host syncs, bf16 on one recipe of every family,
and the GPU check's Python part in its ``--device cpu --tiny`` mode."""

import dataclasses
from pathlib import Path

import pytest
import torch
from conftest import load_script

from ganarium.checks import check_trainer
from ganarium.errors import ConfigError
from ganarium.training.trainer import TrainConfig, set_optimizer_impl

ROOT = Path(__file__).resolve().parents[1]
TINY = {"batch_size": 16, "log_every": 1}
FAMILIES = [
    "dcgan",
    "wgan-gp",
    "cgan-projection",
    "stylegan2",
    "cyclegan",
    "pix2pix",
    "gman",
    "vae",
    "bigan",
    "infogan",
    "ssgan",
    "progan",
]


def _train(name: str, steps: int = 3, **options):
    trainer = check_trainer(name, steps=steps, train_options={**TINY, **options})[0]
    return trainer, trainer.fit()


def _state(trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().float().clone() for k, v in trainer.recipe.state_dict().items()}


def _max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


@pytest.mark.parametrize(
    "option, message",
    [
        ({"optimizer_impl": "turbo"}, "use auto, foreach or fused"),
        ({"compile": True, "compile_backend": "nope"}, "not a torch.compile backend"),
    ],
)
def test_bad_speed_options_are_refused_in_one_line(option, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**option).validate()


def test_speed_switches_are_off_by_default():
    cfg = TrainConfig()
    assert (cfg.channels_last, cfg.compile, cfg.cudnn_benchmark) == (False, False, False)
    assert cfg.optimizer_impl == "auto"


# -- optimizer kernels -------------------------------------------------------------------------
def test_foreach_adam_equals_torch_default_on_the_cpu_and_fused_agrees_to_rounding():
    base, _ = _train("dcgan")
    foreach, _ = _train("dcgan", optimizer_impl="foreach")
    fused, _ = _train("dcgan", optimizer_impl="fused")
    for group in base.optimizers["G"].param_groups:  # torch's CPU default: the for-loop
        assert not group["foreach"] and not group["fused"]
    assert all(g["foreach"] for g in foreach.optimizers["D"].param_groups)
    assert all(g["fused"] for g in fused.optimizers["D"].param_groups)
    assert fused.optimizers["D"]._step_supports_amp_scaling
    assert _max_difference(_state(base), _state(foreach)) == 0.0
    assert 0.0 < _max_difference(_state(base), _state(fused)) < 1e-5


def test_fusing_an_optimizer_with_state_moves_its_step_counts_and_auto_undoes_it():
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([w], lr=0.1)
    w.grad = torch.ones(3)
    opt.step()
    set_optimizer_impl([opt], "fused")
    opt.step()
    assert opt.state[w]["step"].item() == 2.0 and opt.param_groups[0]["fused"]
    set_optimizer_impl([opt], "auto")
    assert opt.param_groups[0]["fused"] is None and not opt._step_supports_amp_scaling
    opt.step()
    assert opt.state[w]["step"].item() == 3.0


# -- channels-last -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dcgan", "stylegan2", "cyclegan", "biggan"])
def test_channels_last_keeps_nets_and_batches_channels_last_and_trains_the_same(name):
    base, history = _train(name, steps=2)
    trainer = check_trainer(name, steps=2, train_options={**TINY, "channels_last": True})[0]
    seen = []
    draw = trainer._draw

    def watched(images=True):
        batches = draw(images)
        seen.extend(v for b in batches for v in b.values() if v.dim() == 4 and v.stride(0))
        return batches

    trainer._draw = watched
    last = trainer.fit()
    weights = [p for p in trainer.recipe.parameters() if p.dim() == 4]
    assert weights and all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
    assert seen and all(v.is_contiguous(memory_format=torch.channels_last) for v in seen)
    # the first step's losses agree to rounding; later ones need not: randn_like of a
    # channels-last activation (StyleGAN2's path-length noise) draws the same numbers in
    # another order, so the runs then agree in distribution only
    for key in ("loss/D", "loss/G"):
        assert last[0][key] == pytest.approx(history[0][key], rel=1e-4, abs=1e-5)
    if name == "dcgan":
        assert _max_difference(_state(base), _state(trainer)) < 1e-5


# -- phases that read no real images ---------------------------------------------------------
def _g_batches(trainer) -> list[dict[str, torch.Tensor]]:
    """The batches the trainer's G phase is given, recorded as it trains."""
    seen: list[dict[str, torch.Tensor]] = []
    loss = trainer.recipe.g_loss
    trainer.phases = [
        dataclasses.replace(ph, loss=lambda b, c, loss=loss: seen.append(b) or loss(b, c))
        if ph.name == "G"
        else ph
        for ph in trainer.phases
    ]
    return seen


@pytest.mark.parametrize("name", ["cgan", "stylegan2", "progan", "began"])
def test_g_phases_copy_no_real_images_and_train_as_if_they_did(name):
    lean = check_trainer(name, steps=3, train_options=TINY)[0]
    assert {ph.name: ph.images for ph in lean.phases}["G"] is False
    seen_lean = _g_batches(lean)
    lean.fit()
    full = check_trainer(name, steps=3, train_options=TINY)[0]  # built as lean was: same seed
    full.phases = [dataclasses.replace(ph, images=True) for ph in full.phases]
    seen_full = _g_batches(full)
    full.fit()
    assert len(seen_lean) == len(seen_full) == 3
    for a, b in zip(seen_lean, seen_full, strict=True):
        assert a["image"].shape == b["image"].shape and a["image"].stride() == (0, 0, 0, 0)
        assert b["image"].stride(0) > 0 and b["image"].abs().sum() > 0  # the full draw has data
        assert all(torch.equal(a[k], b[k]) for k in a if k != "image")  # labels: same positions
    assert _max_difference(_state(lean), _state(full)) == 0.0


def test_a_phase_that_reads_images_cannot_reuse_a_batch_drawn_without_them():
    trainer = check_trainer("dcgan", steps=1, train_options=TINY)[0]
    g = next(ph for ph in trainer.phases if ph.name == "G")
    phases = [
        dataclasses.replace(g, images=False),
        dataclasses.replace(g, name="X", batch="G", images=True),
    ]
    with pytest.raises(ValueError, match="reuses the batch of 'G', which draws none"):
        trainer._check_phases(phases)


# -- torch.compile -----------------------------------------------------------------------------
# aot_eager traces through aot_autograd as inductor does (and so refuses double backward as it
# does) without generating C++, which takes minutes per net on this CPU.
def _compiled(name: str, steps: int, capsys, probed: tuple[str, ...] = ()):
    trainer = check_trainer(
        name,
        steps=steps,
        train_options={**TINY, "compile": True, "compile_backend": "aot_eager"},
    )[0]
    trainer.precision.probed.update(probed)  # as if their first runs took no input gradient
    trainer.fit()
    lines = [line for line in capsys.readouterr().err.splitlines() if "train.compile" in line]
    return trainer, lines


def test_compile_runs_the_gradient_penalty_phase_eager_and_says_so(capsys):
    eager, _ = _train("wgan-gp", steps=2)
    trainer, lines = _compiled("wgan-gp", 2, capsys)
    assert all(hasattr(net, "_compiled_call_impl") for net in trainer.recipe.nets().values())
    assert trainer.precision.input_grad_phases == {"D"}
    assert len(lines) == 1 and "phase 'D' takes input gradients" in lines[0]
    assert _max_difference(_state(eager), _state(trainer)) < 1e-5


def test_compile_falls_back_to_eager_when_a_compiled_phase_differentiates_twice(capsys):
    eager, _ = _train("wgan-gp", steps=2)
    trainer, lines = _compiled("wgan-gp", 2, capsys, probed=("D",))
    assert trainer.precision.input_grad_phases == {"D"}
    assert len(lines) == 1 and "took input gradients after its first step" in lines[0]
    # rerun from the same noise: the weights agree; the failed run's forward passes updated
    # batch-norm statistics once more (a one-time side effect of the fallback)
    params = lambda t: {k: p.detach().clone() for k, p in t.recipe.named_parameters()}  # noqa: E731
    assert _max_difference(params(eager), params(trainer)) < 1e-5


def test_compile_runs_stylegan2s_r1_and_path_length_phases_eager(capsys):
    eager, _ = _train("stylegan2", steps=2)
    trainer, lines = _compiled("stylegan2", 2, capsys)
    assert trainer.precision.input_grad_phases == {"R1", "PL"} and len(lines) == 2
    assert _max_difference(_state(eager), _state(trainer)) < 1e-5


# -- fp16 host syncs ---------------------------------------------------------------------------
def _scale_reads(monkeypatch, name: str, steps: int, hooks: bool = True) -> int:
    reads = []
    real = torch.amp.GradScaler.get_scale
    monkeypatch.setattr(
        torch.amp.GradScaler, "get_scale", lambda self: reads.append(1) or real(self)
    )
    options = {**TINY, "amp": "fp16", "log_every": 0}
    trainer = check_trainer(name, steps=steps, train_options=options)[0]
    if not hooks:
        trainer.phases = [dataclasses.replace(ph, after=None) for ph in trainer.phases]
    trainer.fit()
    return len(reads)


def test_fp16_reads_the_loss_scale_only_where_input_gradients_or_after_hooks_need_it(
    monkeypatch,
):
    # without after hooks or input gradients: each phase's first run and the end-of-fit
    # divergence check read the scale (2 + 2), whatever the number of steps (was 3 per phase)
    assert _scale_reads(monkeypatch, "dcgan", 2, hooks=False) == 4
    assert _scale_reads(monkeypatch, "dcgan", 6, hooks=False) == 4
    # dcgan's D phase has an after hook (weight clipping's seam): one read per step decides it
    assert _scale_reads(monkeypatch, "dcgan", 6) - _scale_reads(monkeypatch, "dcgan", 2) == 4
    # wgan-gp: 5 critic runs a step take a gradient penalty; each reads the fresh scale once
    extra = _scale_reads(monkeypatch, "wgan-gp", 3) - _scale_reads(monkeypatch, "wgan-gp", 2)
    assert extra == 5


# -- bf16 on every family ----------------------------------------------------------------------
@pytest.mark.parametrize("name", FAMILIES)
def test_bf16_autocast_trains_one_recipe_of_every_family_with_finite_losses(name):
    _, history = _train(name, steps=2, amp="bf16", batch_size=8)
    losses = {k: v for r in history for k, v in r.items() if k.startswith("loss/")}
    assert losses and all(torch.isfinite(torch.tensor(v)) for v in losses.values())


# -- the GPU check's Python part ---------------------------------------------------------------
def _benchmark_module(name: str):
    return load_script(f"benchmarks/{name}.py")


def test_gpu_throughput_measures_images_per_second_in_its_cpu_tiny_mode(tmp_path):
    throughput = _benchmark_module("gpu_throughput")
    out = tmp_path / "check.md"
    throughput.main(
        ["throughput", "--device", "cpu", "--tiny", "--recipes", "dcgan", "--out", str(out)]
    )
    text = out.read_text()
    assert "| dcgan | 32 | fp32 eager |" in text and "| dcgan | 32 | bf16 + channels_last |" in text
    rows = [line for line in text.splitlines() if line.startswith("| dcgan")]
    assert all(float(line.split("|")[4]) > 0 for line in rows)
