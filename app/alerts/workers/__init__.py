"""Alerting's workers: the rule evaluator over the change feed, delivery, escalation and the
live push, and the instance's start and stop of them."""
