"""Facts in, a decision out: the fact base, the reasoner, fact repair and explanations."""
