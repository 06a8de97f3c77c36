"""Judging the pipeline against the ground truth: decision metrics, localisation errors, the HTML report."""
