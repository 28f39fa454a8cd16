// Well-known places of the Region the watch refers to, for search and for placing an incident
// where no address is known yet. Municipalities and police zones come from the server's
// reference layers; this short list holds landmarks, which the server does not serve (yet).
export const LANDMARKS = [
  { name: 'Grand-Place / Grote Markt', at: [4.3525, 50.8467] },
  { name: 'Gare Centrale / Centraal Station', at: [4.3571, 50.8455] },
  { name: 'Gare du Midi / Zuidstation', at: [4.3365, 50.8357] },
  { name: 'Gare du Nord / Noordstation', at: [4.3605, 50.8605] },
  { name: 'Palais royal / Koninklijk Paleis', at: [4.3622, 50.8417] },
  { name: 'Parc de Bruxelles / Warandepark', at: [4.3640, 50.8450] },
  { name: 'Berlaymont', at: [4.3826, 50.8433] },
  { name: 'Rond-point Schuman / Schumanplein', at: [4.3810, 50.8430] },
  { name: 'Parlement européen / Europees Parlement', at: [4.3752, 50.8388] },
  { name: 'Parc du Cinquantenaire / Jubelpark', at: [4.3930, 50.8400] },
  { name: 'Atomium', at: [4.3415, 50.8949] },
  { name: 'Stade Roi Baudouin / Koning Boudewijnstadion', at: [4.3340, 50.8957] },
  { name: 'Basilique de Koekelberg / Basiliek van Koekelberg', at: [4.3172, 50.8667] },
  { name: 'Place Flagey / Flageyplein', at: [4.3722, 50.8275] },
  { name: 'Place Meiser / Meiserplein', at: [4.3978, 50.8545] },
  { name: 'Porte de Hal / Hallepoort', at: [4.3455, 50.8335] },
  { name: 'Place Rogier / Rogierplein', at: [4.3585, 50.8545] },
  { name: 'Nonciature / Nuntiatuur', at: [4.4190, 50.8322] },
];

function fold(text) {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** True when every word of the query starts a word of (or appears in) the text. */
export function matchText(text, query) {
  const hay = fold(text);
  return fold(query).split(/\s+/).filter(Boolean).every((word) => hay.includes(word));
}
