// Field use (issue 21), the "Field" tab of the phone and tablet layout: where am I (the
// browser's geolocation, kept in the page: the position reaches the server only in a report
// the user sends), the zones and reference areas around that position, the nearest first, and
// a quick report (a note, a photo, the position) that becomes an incident in status "reported"
// (the watch's draft to confirm) or a logbook note, through the API's ordinary routes, the
// photo attached to it as a document.
import { h, fill, $ } from '../dom.js';
import { label, language, onLanguage, t } from '../i18n.js';
import { errorDetail } from '../format.js';
import { newIdempotencyKey } from '../api.js';
import { around, formatDistance } from '../fieldgeo.js';
import { ENTITIES, ENUMS } from '../model.js';

const RADIUS_M = 2000;
const AROUND_LIMIT = 15;
const TITLE_MAX = 80;
const LOCATE_TIMEOUT_MS = 20000;
// The reference outlines a position is placed in (by containment only: they tile the region).
const REFERENCE = ['municipality', 'police_zone'];

export class Field {
  constructor(app) {
    this.app = app;
    this.el = $('#panel-field', app.root);
    this.el.classList.add('field-panel');
    this.position = null;
    this.status = '';
    this.busy = false;
    this.photo = null;
    this.render();
    app.cleanups.push(onLanguage(() => this.render()));
    // The zones move with the picture: the list follows while a position is known.
    app.cleanups.push(app.store.subscribe(() => this._scheduleAround()));
  }

  get canReport() {
    return this.app.can('field_report:create');
  }

  get canLog() {
    return this.app.can('logbook_entry:create');
  }

  /** Ask the browser where the device is; nothing is sent anywhere. */
  locate() {
    if (!navigator.geolocation) return this._say(t('field.unavailable'));
    this._say(t('field.locating'));
    navigator.geolocation.getCurrentPosition(
      (p) => {
        this.position = { point: [p.coords.longitude, p.coords.latitude], accuracy: p.coords.accuracy, at: p.timestamp };
        this.app.mapView?.showPosition(this.position.point, { label: t('field.you') });
        this._say('');
        this._placed();
      },
      (error) => this._say(t(error.code === 1 ? 'field.denied' : 'field.failed')),
      { enableHighAccuracy: true, timeout: LOCATE_TIMEOUT_MS, maximumAge: 10000 },
    );
  }

  _say(text) {
    this.status = text;
    const el = $('.field-status', this.el);
    if (el) fill(el, text);
  }

  _scheduleAround() {
    if (!this.position || this._pending) return;
    this._pending = setTimeout(() => {
      this._pending = null;
      $('.field-around', this.el)?.replaceWith(this._around());
    }, 500);
  }

  /** The position, the areas it is in and the zones around, drawn again; the form is kept. */
  _placed() {
    $('.field-where', this.el)?.replaceWith(this._where());
    fill($('.field-places', this.el), this._places());
    $('.field-around', this.el)?.replaceWith(this._around());
  }

  _where() {
    const p = this.position;
    const coords = p
      ? t('field.position', {
          lat: p.point[1].toFixed(5),
          lon: p.point[0].toFixed(5),
          accuracy: formatDistance(p.accuracy, language()),
        })
      : t('field.no_position');
    return h(
      'div',
      { class: 'field-where' },
      h('button', { type: 'button', class: 'primary', dataset: { action: 'locate' }, onclick: () => this.locate() }, t('field.locate')),
      h('span', { class: 'field-coords' }, coords),
    );
  }

  _places() {
    if (!this.position) return null;
    const layers = this.app.referenceLayers || {};
    const names = [];
    for (const name of REFERENCE) {
      const [hit] = around(this.position.point, layers[name]?.features || [], { radius: 0, limit: 1 });
      if (hit?.inside) names.push(`${t(`legend.${name}`)} : ${this._name(hit.feature)}`);
    }
    return names.join(' — ');
  }

  _name(feature) {
    const p = feature.properties || {};
    const lang = language();
    return p.title || p[`name_${lang}`] || p.name_fr || p.name || p.ref || String(feature.id);
  }

  _around() {
    if (!this.position) return h('ul', { class: 'field-around' });
    const zones = [...this.app.store.all('zone')];
    const found = around(this.position.point, zones, { radius: RADIUS_M, limit: AROUND_LIMIT });
    if (!found.length) return h('ul', { class: 'field-around' }, h('li', { class: 'muted' }, t('field.none_around', { radius: formatDistance(RADIUS_M, language()) })));
    return h(
      'ul',
      { class: 'field-around', 'aria-label': t('field.around') },
      found.map(({ feature, inside, distance }) =>
        h(
          'li',
          { dataset: { id: feature.id, distance: Math.round(distance) } },
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => this.app.openDetail('zone', feature.id) },
            `${this._name(feature)} (${label('zone_kind', feature.properties?.kind)})`,
          ),
          h('span', { class: ['distance', inside && 'inside'] }, inside ? t('field.inside') : formatDistance(distance, language())),
        ),
      ),
    );
  }

  _report() {
    if (!this.canReport) return h('p', { class: 'muted' }, t('field.report_not_allowed'));
    const preview = this.photo ? h('img', { class: 'preview', src: this.photo.url, alt: t('field.photo_preview') }) : null;
    return h(
      'form',
      { class: 'field-report', novalidate: true, onsubmit: (e) => this.submit(e) },
      h('label', { class: 'field' }, h('span', {}, t('field.kind')),
        h('select', { name: 'kind' },
          h('option', { value: 'incident' }, t('field.kind_incident')),
          this.canLog ? h('option', { value: 'logbook' }, t('field.kind_logbook')) : null)),
      h('label', { class: 'field' }, h('span', {}, t('field.category')),
        h('select', { name: 'category' }, ENUMS.category.map((c) => h('option', { value: c, selected: c === 'other' }, label('category', c))))),
      h('label', { class: 'field' }, h('span', {}, t('field.note')), h('textarea', { name: 'note', rows: 3, required: true, maxlength: 2000 })),
      h('label', { class: 'field' }, h('span', {}, t('field.photo')),
        h('input', { type: 'file', name: 'photo', accept: 'image/jpeg,image/png,image/webp', capture: 'environment', onchange: (e) => this._photo(e.target.files[0]) })),
      preview,
      h('p', { class: 'muted small' }, t('field.shares_position')),
      h('button', { type: 'submit', class: 'primary', disabled: this.busy }, t('field.send')),
    );
  }

  _photo(file) {
    if (this.photo) URL.revokeObjectURL(this.photo.url);
    this.photo = file ? { file, url: URL.createObjectURL(file) } : null;
    const form = $('.field-report', this.el);
    $('img.preview', form)?.remove();
    if (this.photo) $('input[type=file]', form).closest('label').after(h('img', { class: 'preview', src: this.photo.url, alt: t('field.photo_preview') }));
  }

  async submit(event) {
    event.preventDefault();
    const form = event.target;
    const note = form.note.value.trim();
    if (!note) {
      this._say(t('field.note_required'));
      form.note.focus();
      return;
    }
    if (!this.position) {
      this._say(t('field.locate_first'));
      return;
    }
    const kind = form.kind.value;
    const [lon, lat] = this.position.point;
    this.busy = true;
    form.querySelector('button[type=submit]').disabled = true;
    try {
      const ref = kind === 'incident' ? await this._sendIncident(form, note) : await this._sendNote(note, lon, lat);
      this._photo(null);
      form.reset();
      this._say(t(kind === 'incident' ? 'field.sent_incident' : 'field.sent_logbook', { ref }));
      this.app.toast(this.status, 'info');
    } catch (error) {
      this._say(t('alert.error', { detail: errorDetail(error) }));
    } finally {
      this.busy = false;
      form.querySelector('button[type=submit]').disabled = false;
    }
  }

  /**
   * An incident for the watch to confirm, with its photo, in one request (POST
   * /api/field-reports: the photo as the body, the rest in the query).
   */
  async _sendIncident(form, note) {
    const [lon, lat] = this.position.point;
    const query = new URLSearchParams({ note, lon, lat, category: form.category.value });
    if (this.position.accuracy != null) query.set('accuracy', String(Math.min(this.position.accuracy, 100000)));
    if (this.photo) query.set('filename', this.photo.file.name || 'photo.jpg');
    const answer = await this.app.api.upload(`/api/field-reports?${query}`, this.photo?.file ?? new Blob([])).promise;
    this.app.store.applyFeature('incident', answer.incident);
    if (answer.document) this.app.store.applyFeature('document', answer.document);
    return answer.incident.properties?.ref || '';
  }

  /** A note in the watch's logbook, the position in its text (and as its geometry). */
  async _sendNote(note, lon, lat) {
    const title = note.length > TITLE_MAX ? `${note.slice(0, TITLE_MAX - 1)}…` : note;
    const where = t('field.position', { lat: lat.toFixed(5), lon: lon.toFixed(5), accuracy: formatDistance(this.position.accuracy, language()) });
    const body = { type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: { title, description: `${note}\n\n${where}`, kind: 'note' } };
    const feature = await this.app.api.request('POST', `/api/${ENTITIES.logbook_entry.path}`, { body, headers: { 'Idempotency-Key': newIdempotencyKey() } });
    this.app.store.applyFeature('logbook_entry', feature);
    if (this.photo) {
      const query = new URLSearchParams({ subject_entity: 'logbook_entry', subject_id: feature.id, filename: this.photo.file.name || 'photo.jpg' });
      await this.app.api.upload(`/api/documents?${query}`, this.photo.file).promise;
    }
    return feature.properties?.ref || '';
  }

  render() {
    fill(
      this.el,
      h('h2', {}, t('field.title')),
      h('p', { class: 'muted small' }, t('field.private')),
      this._where(),
      h('p', { class: 'field-status', role: 'status', 'aria-live': 'polite' }, this.status),
      h('p', { class: 'field-places' }, this._places()),
      h('h3', {}, t('field.around')),
      this._around(),
      h('h3', {}, t('field.report')),
      this._report(),
    );
  }
}
