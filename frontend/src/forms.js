// A form's problems shown where they belong: each beside the field it names (its slot), the
// rest and the summary in the form's general line; the first field at fault takes the focus.
import { t } from './i18n.js';

/**
 * @param form     the form element
 * @param slots    field name → its error element
 * @param general  the form's general error line
 * @param problems [{field, text} or {field, key, params}]
 * @param detail   a summary line, or null
 */
export function showProblems(form, slots, general, problems, detail = null) {
  for (const slot of Object.values(slots)) slot.textContent = '';
  const unplaced = [];
  for (const p of problems) {
    const text = p.text || t(p.key, p.params);
    const slot = slots[p.field];
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
    else unplaced.push(text);
  }
  const lines = [detail, ...unplaced].filter(Boolean);
  general.hidden = !lines.length;
  general.textContent = lines.join(' ');
  const first = form.querySelector('.field-error:not(:empty)');
  const control = first?.parentElement?.querySelector('input, select, textarea');
  (control || (lines.length ? general : null))?.focus?.();
}
