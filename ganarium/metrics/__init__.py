"""Metrics: FID, KID, IS, precision/recall, density/coverage, mode statistics, and the project's
own digit classifier as an offline feature extractor. Submodules import torch-heavy parts lazily."""
