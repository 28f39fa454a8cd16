// What the dashboard shares with the server, declared once there (app/vocabulary.py): the API's
// enum values in order, their FR/NL/EN labels (app/vocabulary.json), and each kind's rules as
// its EntitySpec declares them (statuses, transitions, initial statuses, geometry types, field
// limits and defaults). generated/vocabulary.json is written by `python -m app.vocabulary`
// (`npm run vocabulary`, run before every build and test run); never edit it by hand.
import vocabulary from './generated/vocabulary.json';

/** Enum values by label group, in the API's order: ENUMS.zone_kind, ENUMS.cap_urgency… */
export const ENUMS = vocabulary.enums;
/** Labels by language, group and value: LABELS.nl.category.fire. */
export const LABELS = vocabulary.labels;
/** Each kind's rules by entity name: RULES.incident.transitions.status.reported. */
export const RULES = vocabulary.entities;
