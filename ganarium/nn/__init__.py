"""Building blocks shared by many nets (norms, spectral norm, residual blocks, ...)."""
