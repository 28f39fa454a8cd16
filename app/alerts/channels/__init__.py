"""How an alert reaches a partner outside the dashboard: signed webhooks, e-mail, and the
signed acknowledgement link."""
