// Places for search and for placing an incident where no address is known yet: the server's
// reference layers (municipalities, police zones, landmarks), named in the current language.
import { language } from './i18n.js';

function fold(text) {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** True when every word of the query starts a word of (or appears in) the text. */
export function matchText(text, query) {
  const hay = fold(text);
  return fold(query).split(/\s+/).filter(Boolean).every((word) => hay.includes(word));
}

/** Labels of a place for each language: French, Dutch, and both for English. */
export function placeLabels(props) {
  const fr = props.name_fr || props.name_nl || props.code;
  const nl = props.name_nl || fr;
  return { fr, nl, en: fr === nl ? fr : `${fr} / ${nl}` };
}

/** A place's name in the current language. */
export function placeName(props) {
  return placeLabels(props)[language()] ?? placeLabels(props).fr;
}

/** The searchable text of a place: both names whatever the language. */
export function placeText(props) {
  return `${props.code} ${props.name_fr} ${props.name_nl}`;
}
