"""Part 2's reading of your own digits: an image's ink, its digits, the classifier, the shipped weights and the
demo page."""
