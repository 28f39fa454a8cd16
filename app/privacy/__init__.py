"""Personal data (docs/privacy.md): the purge of personal fields past their retention, and the
export of everything held about a named person (a subject-access request)."""
