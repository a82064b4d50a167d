"""Built-in studies: ``lucic2018`` (and ``lucic2018-narrow``), the protocol of Lucic et al. 2018,
"Are GANs Created Equal? A Large-Scale Study" (facts in docs/study.md), on the datasets this
machine has; and ``small``, the same comparison shrunk to about twelve minutes on two CPU cores.

Every model gets the same InfoGAN-style nets (``net=infogan``), z of 64, batch 64, Adam, no
EMA of G (the paper has none), the same search space and the same number of samples; the
recipe's own defaults count as one sample. BEGAN keeps its auto-encoder critic.
"""

from __future__ import annotations

from typing import Any

from ganarium.errors import ConfigError, suggest

PAPER_RECIPES = ["gan", "gan-ns", "lsgan", "wgan", "wgan-gp", "dragan", "began"]
LR_KEYS = ["model.lr_g", "model.lr_d", "model.lr"]

# Best FID (mean +- std over re-runs of the best setting), Inception features, from the paper's
# table as quoted by Dai & Wipf 2019 (Table 1): not comparable with domain-classifier FIDs.
PAPER_BEST_FID = {
    "digits": {
        "gan": 9.8,
        "gan-ns": 6.8,
        "lsgan": 7.8,
        "wgan": 6.7,
        "wgan-gp": 20.3,
        "dragan": 7.6,
        "began": 13.1,
    },
    "fashion-mnist": {
        "gan": 29.6,
        "gan-ns": 26.5,
        "lsgan": 30.7,
        "wgan": 21.5,
        "wgan-gp": 24.5,
        "dragan": 27.7,
        "began": 22.9,
    },
}


def _wide() -> dict[str, Any]:
    return {
        "lr": {"log_uniform": [1e-5, 1e-2], "keys": LR_KEYS},
        "beta1": {"uniform": [0.0, 1.0], "keys": "model.betas[0]"},
        "n_disc": {"choice": [1, 5], "keys": "model.n_critic"},
        "d_norm": {"choice": ["batch", "none"], "keys": "model.d_norm"},
    }


def _per_recipe(narrow: bool) -> dict[str, Any]:
    lam = [0.1, 10.0] if narrow else [0.1, 100.0]
    out = {
        "gan": {},
        "gan-ns": {},
        "lsgan": {},
        "wgan": {
            "search": {
                "clip": {
                    "log_uniform": [1e-2, 1.0] if narrow else [1e-3, 1.0],
                    "keys": "model.clip",
                }
            }
        },
        "wgan-gp": {"search": {"gp_weight": {"log_uniform": lam, "keys": "model.gp_weight"}}},
        "dragan": {"search": {"gp_weight": {"log_uniform": lam, "keys": "model.gp_weight"}}},
        "began": {
            "fixed": {"model.g_norm": "none"},
            "search": {
                # BEGAN's step is one D and one G update: n_critic does not apply
                "n_disc": {"choice": [1], "keys": "model.n_critic"},
                "lambda_k": {
                    "log_uniform": [1e-3, 1e-3] if narrow else [1e-4, 1e-2],
                    "keys": "model.lambda_k",
                },
                "gamma": {"uniform": [0.6, 0.9] if narrow else [0.0, 1.0], "keys": "model.gamma"},
            },
        },
    }
    if narrow:
        for r in ("wgan-gp", "dragan"):
            out[r]["fixed"] = {"model.d_norm": "none"}
    return out


def _available(name: str, options: dict[str, Any]) -> bool:
    from ganarium.data import load_dataset
    from ganarium.errors import GanariumError

    try:
        load_dataset(name, **{**options, "split": "test"})
        return True
    except (GanariumError, OSError, RuntimeError):
        return False


def lucic2018(narrow: bool = False) -> dict[str, Any]:
    """The paper's study; MNIST is torchvision's when its files are under ./data, else the
    5,000 offline digits; CIFAR-10 and CelebA join when their files are there."""
    from ganarium.models import RECIPES

    recipes = _per_recipe(narrow)
    if "vae" in RECIPES:
        recipes["vae"] = {}
    datasets: dict[str, Any] = {}
    datasets["mnist" if _available("mnist", {}) else "digits"] = {"options": {"size": 28}}
    if _available("fashion-mnist", {}):
        datasets["fashion-mnist"] = {"options": {"size": 28}}
    datasets["shapes"] = {"options": {"size": 28}}
    if _available("cifar10", {}):
        datasets["cifar10"] = {"options": {"size": 32}, "epochs": 100}
    if _available("celeba", {}):
        datasets["celeba"] = {"options": {"size": 64}, "epochs": 40}
    search = {"lr": {"log_uniform": [1e-4, 1e-3], "keys": LR_KEYS}} if narrow else _wide()
    narrow_fixed = {"model.betas[0]": 0.5, "model.n_critic": 1} if narrow else {}
    return {
        "name": "lucic2018-narrow" if narrow else "lucic2018",
        "recipes": recipes,
        "datasets": datasets,
        "fixed": {
            "model.net": "infogan",
            "model.z_dim": 64,
            "model.g_norm": "batch",
            "model.optimizer": "adam",
            "train.batch_size": 64,
            "train.ema_decay": 0.0,
            "train.tensorboard": False,
            **narrow_fixed,
        },
        "search": search,
        "samples": 50 if narrow else 100,
        "include_defaults": True,
        "seeds": 1,
        "budget": {"epochs": 20, "epoch_images": 50_000},
        "metrics": {
            "end": ["fid", "kid", "pr", "exact"],
            "n": 10_000,
            "during": {"every_epochs": 5, "metrics": ["fid"], "n": 10_000},
        },
        "objective": "fid",
        "resources": {"cpu": 1, "gpu": 0},
    }


def small() -> dict[str, Any]:
    """Four of the paper's models, three samples each (the defaults and two drawn from the wide
    space), on 16x16 digits, Fashion-MNIST (when installed) and shapes, with nets half as wide:
    the whole pipeline, figures included, in about twelve minutes on two cores (measured: 12:01
    local, 12:55 on Ray). Shapes get 600 steps: at 300 no model draws a triangle within the
    exact metric's tolerance yet."""
    spec = lucic2018()
    keep = ["gan-ns", "lsgan", "wgan-gp", "began"]
    spec["name"] = "small"
    spec["recipes"] = {r: spec["recipes"][r] for r in keep}
    spec["datasets"] = {"digits": {"options": {"size": 16}}}
    if _available("fashion-mnist", {}):
        spec["datasets"]["fashion-mnist"] = {"options": {"size": 16}}
    spec["datasets"]["shapes"] = {"options": {"size": 16}, "steps": 600}
    spec["fixed"].update({"model.g_width": 32, "model.d_width": 32})
    spec["recipes"]["began"]["fixed"].update({"model.code_dim": 32})
    spec["samples"] = 3
    spec["budget"] = {"steps": 300}
    spec["metrics"] = {
        "end": ["fid", "pr", "exact"],
        "n": 1000,
        "during": {"every_steps": 100, "metrics": ["fid"], "n": 1000},  # the same n: comparable
    }
    return spec


PRESETS = {
    "lucic2018": lambda: lucic2018(False),
    "lucic2018-narrow": lambda: lucic2018(True),
    "small": small,
}


def preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise ConfigError(
            f"unknown study preset {name!r}.{suggest(name, PRESETS)} Presets: {', '.join(PRESETS)}; "
            "or pass a spec YAML file"
        )
    return PRESETS[name]()
