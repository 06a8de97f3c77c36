"""Planning: road networks, routes (with constraints) and maneuvers checked against the rules."""
