"""Part 2's training, four modules deep: data (MNIST's files, the batches and their augmentation schedule), train
(the CPU speed-ups, the optimiser and the loops), run (a run's plan, its output folder and the run itself: it saves
and prints each epoch fit yields), checkpoint (saved, loaded, restored); and curves (its figure)."""
