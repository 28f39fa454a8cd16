"""The national threat level (issue 18 §4): setting it (the record through the one write path,
and in the same transaction the CAP alert to every partner), and its routes. What stands at an
instant is the domain's (app.domain.threat_level), read by SITREPs and replays alike."""
