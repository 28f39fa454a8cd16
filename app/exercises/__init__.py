"""Exercises (issue 18 §2): scenarios of timed injects, played through the one write path into
an exercise picture kept apart from the real one, and the players' response times after it
(docs/replay-and-exercises.md "Exercises")."""
