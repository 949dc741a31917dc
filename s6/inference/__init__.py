"""Part 2's inference: a trained model reads your own digits. An image's ink, its digits, the classifier, the shipped
weights and the demo page."""
