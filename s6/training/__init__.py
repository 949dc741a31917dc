"""Part 2's training, four modules deep: data (MNIST's files and batches), train (the optimiser and the loops), run
(a run's plan, its output folder and the run itself), checkpoint (saved, loaded, restored); and curves (its
figure)."""
