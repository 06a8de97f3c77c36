"""Judging the pipeline against the ground truth: decision metrics, localisation errors, the HTML report,
and pictures (a route, a maneuver plan, frames with their ground-truth boxes)."""
