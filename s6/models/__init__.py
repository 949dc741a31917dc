"""Part 2's models: the layer vocabulary (spec), every model by name (registry), how each trains (recipe) and its
jitter (augment), the modules (net) and their tables (summary)."""
