"""Training: the Trainer (trainer.py) runs a recipe's phases, step by step; its parts beside it:
config.py (``train.*`` and their checks), strategy.py (the device and process policy it asks to
place nets, shard data, reduce gradients and logged values and gate writing), optimizers.py
(kernels, schedules, gradient gating), precision.py (autocast, loss scalers, input-gradient
watch), guard.py (divergence), ema.py (the EMA default and schedule), logs.py (history,
metrics.jsonl, TensorBoard, progress bar), previews.py (sample grids), evaluation.py (periodic
evaluation), checkpoints.py (checkpoints, resume, the run lock, recipe.json), callbacks.py (the
seam), threads.py (the train command's CPU-thread policy)."""
