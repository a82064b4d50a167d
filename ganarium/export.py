"""Exported models: safetensors weights + a JSON config, loadable with ``ganarium.load``."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf
from safetensors.torch import load_file, save_file

from ganarium import __version__
from ganarium.checkpoint import atomic_write_text
from ganarium.compat import (
    FORMAT_VERSION,
    check_format,
    upgrade_model_config,
    upgrade_model_state,
)
from ganarium.errors import CheckpointError
from ganarium.models import Recipe
from ganarium.nets.own import GivenNets


def export_run(
    run_dir: str, out_dir: str, trust_code: bool = False, nets: GivenNets | None = None
) -> Path:
    """Write ``out_dir``/model.safetensors + model.json. A run whose config names code to
    import (own nets) is loaded only with ``trust_code``."""
    from ganarium.runs import load_recipe

    recipe = load_recipe(run_dir, trust_code=trust_code, nets=nets)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in recipe.state_dict().items()}
    save_file(state, str(out / "model.safetensors"))
    meta = {
        "config": OmegaConf.to_container(recipe.config),
        "info": recipe.info.to_dict(),
        "step": recipe.trained_steps,
        "format_version": FORMAT_VERSION,
        "ganarium_version": __version__,
    }
    atomic_write_text(out / "model.json", json.dumps(meta, indent=2))
    return out


def load_model(
    path: str, device: str = "cpu", trust_code: bool = False, nets: GivenNets | None = None
) -> Recipe:
    """A recipe from an exported folder (model.safetensors + model.json) or a run directory.
    Code its config names (``model.net=pkg.module:make``) is imported only with ``trust_code``;
    nets given from Python when it was trained are handed over again as ``nets``."""
    from ganarium.runs import build_recipe, check_code_trust, info_from_dict, load_recipe
    from ganarium.training.trainer import load_recipe_weights

    p = Path(path)
    if (p / "config.yaml").exists():
        return load_recipe(p, device=device, trust_code=trust_code, nets=nets)
    if not (p / "model.json").exists() or not (p / "model.safetensors").exists():
        raise CheckpointError(
            f"{p} is neither a run directory nor an exported model (model.json + model.safetensors)"
        )
    meta = json.loads((p / "model.json").read_text())
    found = check_format(meta.get("format_version", 1), f"exported model {p}")
    config = meta["config"]
    cfg = OmegaConf.create({**config, "model": upgrade_model_config(config.get("model", {}))})
    check_code_trust(cfg, trust_code, nets)
    recipe = build_recipe(cfg, info_from_dict(meta["info"]), trust_code, nets)
    weights = upgrade_model_state(load_file(str(p / "model.safetensors")), found)
    load_recipe_weights(recipe, {"model": weights})
    recipe.config = cfg  # type: ignore[attr-defined]
    return recipe.to(device).eval()
