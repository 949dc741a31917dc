"""Part 2's training: MNIST's files and batches, the plan of a run, the loop, checkpoints, the output folder and
the run itself."""
