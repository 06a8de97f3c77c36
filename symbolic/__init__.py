"""Symbolic: facts, the rule language, its compiler to z3, reasoning, planning.

This package never imports torch, ``perception`` or ``bridge``: rule files can
be written and checked on a machine with no deep-learning stack.
"""
