"""Compiling a rule set once into Python closures that ground it over a world.

``residual`` is the three-valued algebra of decided values and what uncertain
facts leave undecided; ``intervals`` decides comparisons over values known
within a tolerance; ``worlds`` holds what the rules read (a frame's facts, or
K unknown objects); ``compiler`` turns rules into closures and grounds them.
"""
