"""What recipes compose besides nets: adversarial objectives (losses), penalties (regularizers),
differentiable augmentation (augment), consistency terms, latent optimisation and the improved
techniques of Salimans et al. Nothing here knows a recipe."""
