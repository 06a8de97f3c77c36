"""The rule language: its grammar, parser, syntax tree, type checker and the checked :class:`RuleSet`.

``loader.load_rules`` / ``loader.parse_rules`` read a rule file (parse, follow
includes, type-check) into a ``ruleset.RuleSet``; ``errors.RuleError`` says
where a file goes wrong.
"""
