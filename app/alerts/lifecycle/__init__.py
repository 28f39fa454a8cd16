"""An alert's life: composed (by hand, by a rule, for an alarm test), stored, read back as
JSON, CAP and Atom; CAP received from outside."""
