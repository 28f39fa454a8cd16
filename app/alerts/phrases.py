"""FR/NL/EN sentence parts of automatic alerts and e-mails. The words for enum values
(categories, severities, statuses…) are the dashboard's, from app/vocabulary.py."""

from __future__ import annotations

Phrases = dict[str, tuple[str, str, str]]  # key -> (fr, nl, en)

PREFIX: Phrases = {
    "Alert": ("", "", ""),
    "Update": ("Mise à jour : ", "Update: ", "Update: "),
    "Cancel": ("Fin d'alerte : ", "Einde alarm: ", "Cancelled: "),
}

ACK: Phrases = {
    "link": ("Accuser réception", "Ontvangst bevestigen", "Acknowledge"),
}

INDEX = {"fr": 0, "nl": 1, "en": 2}


def phrase(table: Phrases, key: str, language: str) -> str:
    return table[key][INDEX[language]]
