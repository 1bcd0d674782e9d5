"""Running the whole platform on one machine: ``sora up`` and its gateway."""
