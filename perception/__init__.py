"""Perception: the neural half. Images in, object-level symbols out.

This package knows torch and torchvision; it never imports ``symbolic`` or
``bridge``.
"""
