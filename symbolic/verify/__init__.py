"""Checking a rule file over every scene of up to K objects: conflicts, dead rules, ambiguities, ...

``checker.check_rules`` runs the checks (``checks``) on a rule file grounded over
K symbolic objects (``scene``) and gathers the findings in a report (``report``).
"""
