"""Part 2's models, each a plain PyTorch module in a file of its own with its recipe beside it, every setting written
out (model1, model2, model3), every model by name (registry), the types a recipe is written in (recipe), and their
tables (summary)."""

# What every model here reads: pixels scaled to [0, 1], then normalised with these. Here, where data, prediction and
# checkpoints can read them without importing torch or a model (a checkpoint records them; s6.training.checkpoint).
MNIST_MEAN = 0.1307  # mean pixel of the 60k training images, in [0, 1]
MNIST_STD = 0.3081  # their standard deviation
