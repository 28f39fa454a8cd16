// The documents of an object, for every panel that lists them (the activation board, an object's
// detail): one row per document (its name, file, size, version, internal or shared), download,
// preview in a dialog and, for those who may write documents, attaching a file (chosen, or
// dropped onto the section) and uploading a new version of one. An upload shows the bytes sent
// as they go and can be cancelled; the API's refusals are said in the user's language.
import { h, fill, saveBlob } from '../dom.js';
import { label, t } from '../i18n.js';
import { ApiError, UploadCancelled } from '../api.js';
import { errorDetail } from '../format.js';
import { previewable } from '../board-model.js';

// Bounds the API sets on what describes a document (app/domain/schema.py Title, Text).
const TITLE_MAX = 200;
const DESCRIPTION_MAX = 10000;
// What describes an upload goes in its query string, and the server bounds a request's head
// (SITCEN_MAX_HEADER_BYTES, 16 KiB by default): a longer description is written after the
// upload, by a PATCH of the document.
const QUERY_TEXT_MAX = 4000;
// What the file chooser offers first (the server reads the type from the bytes whatever the name).
const ACCEPT = '.pdf,.png,.jpg,.jpeg,.gif,.webp,.tif,.tiff,.docx,.xlsx,.pptx,.odt,.ods,.doc,.xls,.txt,.csv,.eml';

/** A byte count as people read it (decimal units, as file managers show them). */
export function formatSize(bytes) {
  if (!Number.isFinite(bytes)) return null;
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i += 1;
  }
  return `${value.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function problemIs(error, status, slug) {
  return error.status === status || String(error.body?.type || '').endsWith(`/${slug}`);
}

/** What the user reads of a refused or failed upload, in their language. */
export function uploadError(error) {
  if (error instanceof ApiError) {
    const body = error.body || {};
    if (problemIs(error, 415, 'unsupported-media-type')) return t('documents.refused_type', { sniffed: body.sniffed || '?' });
    if (problemIs(error, 413, 'payload-too-large')) {
      return Number.isFinite(body.max_bytes) ? t('documents.too_large', { limit: formatSize(body.max_bytes) }) : t('documents.too_large_unknown');
    }
    if (error.status === 412) return t('documents.stale');
    if (error.status === 404) return t('documents.subject_gone');
    if (error.status === 403) return t('documents.forbidden');
  }
  return t('documents.failed', { detail: errorDetail(error) });
}

const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes('Files');

const guarded = new WeakSet();

/**
 * A file dropped beside a section that takes it would otherwise be opened by the browser in
 * place of the dashboard: outside the drop zones a file is refused (the zones handle theirs first).
 */
function guardAgainstStrayDrops(win) {
  if (!win?.addEventListener || guarded.has(win)) return;
  guarded.add(win);
  win.addEventListener('dragover', (e) => {
    if (e.defaultPrevented || !hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'none';
  });
  win.addEventListener('drop', (e) => {
    if (!e.defaultPrevented && hasFiles(e)) e.preventDefault();
  });
}

/**
 * One panel's documents: `row(f)` draws a document's row (for the panel's KeyedList), `panel`
 * holds the attach form and the upload's progress, `dialog` the preview. `name` prefixes the
 * elements' ids: the board and the detail may be on the page at once.
 */
export class DocumentShelf {
  constructor(app, name) {
    this.app = app;
    this.name = name;
    this.subject = null;
    this.form = this._blankForm();
    this.upload = null;
    this.message = null;
    this.previewUrl = null;
    // The live region and the alert stay the same elements: a region put in the page anew is
    // not read out by every screen reader.
    this.attachEl = h('div', { class: 'doc-attach-part' });
    this.liveEl = h('div', { role: 'status', class: 'doc-live' });
    this.alertEl = h('div', { role: 'alert', class: 'doc-alert' });
    this.panel = h('div', { class: 'doc-shelf' }, this.attachEl, this.liveEl, this.alertEl);
    this.dialog = h('dialog', { class: 'dialog board-preview', 'aria-labelledby': `${name}-preview-title` });
    this.dialog.addEventListener('close', () => {
      if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
      this.previewUrl = null;
      fill(this.dialog);
    });
  }

  _blankForm() {
    return { open: false, file: null, title: '', description: '', shareable: false };
  }

  /** Attaching needs document:create; a partner never writes documents (the API agrees). */
  get mayAttach() {
    return !this.app.partner && this.app.can('document:create');
  }

  get mayVersion() {
    return !this.app.partner && this.app.can('document:update');
  }

  /** What a new document is attached to. Another object starts a blank form. */
  setSubject(entity, id) {
    if (this.subject?.entity !== entity || this.subject?.id !== id) {
      this.subject = { entity, id };
      this.form = this._blankForm();
      if (!this.upload) this.message = null;
    }
    this.draw();
  }

  /** Dropping a file onto `section` opens the attach form with it. */
  acceptDrops(section) {
    if (!this.mayAttach) return;
    guardAgainstStrayDrops(section.ownerDocument?.defaultView);
    const leave = () => section.classList.remove('doc-drop');
    section.addEventListener('dragover', (e) => {
      if (!hasFiles(e) || this.upload) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      section.classList.add('doc-drop');
    });
    section.addEventListener('dragleave', (e) => {
      if (!section.contains(e.relatedTarget)) leave();
    });
    section.addEventListener('drop', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      leave();
      if (this.upload) return;
      const files = [...(e.dataTransfer.files || [])];
      if (!files.length) return;
      this.form = { ...this.form, open: true, file: files[0] };
      this.message = files.length > 1 ? { kind: 'info', text: t('documents.one_at_a_time', { name: files[0].name }) } : null;
      this.draw();
      this.panel.querySelector('[data-key="doc-title"]')?.focus();
    });
  }

  // ---- rows

  row(f) {
    const p = f.properties;
    const name = p.title || p.filename;
    const staff = !this.app.partner;
    const action = (key, text, onclick) => h('button', { type: 'button', dataset: { key: `doc-${f.id}-${key}` }, 'aria-label': `${text}: ${name}`, onclick }, text);
    return h('li', { class: ['board-row', 'board-document'], dataset: { id: f.id } },
      h('div', { class: 'row-main' }, h('strong', {}, name),
        staff && p.shareable === false ? [' ', h('span', { class: 'tag' }, t('documents.internal'))] : null,
        staff && p.shareable === true ? [' ', h('span', { class: 'tag tag-shared' }, t('documents.shared'))] : null),
      h('div', { class: 'row-meta' }, [p.filename, p.content_type, formatSize(p.size), p.current_version ? t('documents.version', { n: p.current_version }) : null].filter(Boolean).join(' · ')),
      p.description ? h('p', { class: 'doc-description' }, p.description) : null,
      h('div', { class: 'row-actions' },
        action('download', t('documents.download'), () => this.download(f)),
        previewable(f) ? action('preview', t('documents.preview'), () => this.preview(f)) : null,
        this.mayVersion ? action('version', t('documents.new_version'), () => this.chooseVersion(f)) : null),
    );
  }

  async download(f) {
    try {
      saveBlob(await this.app.api.blob(`/api/documents/${f.id}/content`), f.properties.filename || `${f.id}`);
    } catch (error) {
      this.app.toast(t('documents.download_failed', { detail: errorDetail(error) }), 'error');
    }
  }

  /** The preview in a dialog: the server's PNG of an image or of a PDF's first page. */
  async preview(f) {
    const p = f.properties;
    try {
      const blob = await this.app.api.blob(`/api/documents/${f.id}/preview`);
      if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
      this.previewUrl = URL.createObjectURL(blob);
      const title = t('documents.preview_title', { title: p.title || p.filename });
      fill(this.dialog,
        h('h2', { id: `${this.name}-preview-title` }, title),
        h('img', { src: this.previewUrl, alt: title }),
        h('form', { method: 'dialog' }, h('button', { type: 'submit' }, t('documents.preview_close'))));
      if (!this.dialog.open) this.dialog.showModal();
    } catch (error) {
      this.app.toast(t('documents.preview_failed', { detail: errorDetail(error) }), 'error');
    }
  }

  /** Ask for the file of a new version of `f` (a file chooser), then upload it. */
  chooseVersion(f) {
    if (this.upload) {
      this._say('info', t('documents.busy'));
      return;
    }
    const input = h('input', { type: 'file', hidden: true, dataset: { key: 'doc-version-file' } });
    input.addEventListener('change', () => {
      input.remove();
      if (input.files?.[0]) this.uploadVersion(f, input.files[0]);
    });
    input.addEventListener('cancel', () => input.remove());
    // In the page while the chooser is open: a test (or an assistive tool) can find it there.
    for (const stale of this.panel.querySelectorAll('[data-key="doc-version-file"]')) stale.remove();
    this.panel.append(input);
    input.click();
  }

  // ---- uploads

  /** Upload the form's file onto the subject: POST /api/documents, the file as the body. */
  async attach() {
    const { file } = this.form;
    const subject = this.subject;
    if (!file) return this._say('error', t('documents.no_file'));
    if (file.size === 0) return this._say('error', t('documents.empty_file', { name: file.name }));
    const query = new URLSearchParams({
      subject_entity: this.subject.entity,
      subject_id: this.subject.id,
      filename: file.name,
      shareable: String(Boolean(this.form.shareable)),
    });
    const title = this.form.title.trim();
    const description = this.form.description.trim();
    const inline = encodeURIComponent(description).length <= QUERY_TEXT_MAX;
    if (title) query.set('title', title);
    if (description && inline) query.set('description', description);
    let feature = await this._send('attach', file, `/api/documents?${query}`, {});
    if (!feature) return null;
    if (subject === this.subject) this.form = this._blankForm();
    const attached = t('documents.attached', { title: feature.properties?.title || file.name });
    if (description && !inline) {
      try {
        feature = await this.app.api.request('PATCH', `/api/documents/${feature.id}`, {
          body: { type: 'Feature', properties: { description } },
          ifMatch: feature.properties.version,
        });
        this.app.store.applyFeature('document', feature);
      } catch (error) {
        this._say('error', `${attached} ${t('documents.description_failed', { detail: errorDetail(error) })}`, subject);
        return feature;
      }
    }
    this._say('ok', attached, subject);
    this.panel.querySelector('[data-key="doc-attach"]')?.focus();
    return feature;
  }

  /** A new version of `f`: POST /api/documents/{id}/versions with the version the panel shows. */
  async uploadVersion(f, file) {
    const subject = this.subject;
    if (file.size === 0) return this._say('error', t('documents.empty_file', { name: file.name }));
    const query = new URLSearchParams({ filename: file.name });
    const feature = await this._send('version', file, `/api/documents/${f.id}/versions?${query}`, { ifMatch: f.properties.version });
    if (!feature) return null;
    const p = feature.properties || {};
    this._say('ok', t('documents.versioned', { title: p.title || file.name, n: p.current_version }), subject);
    return feature;
  }

  async _send(kind, file, path, { ifMatch = null }) {
    if (this.upload) return null;
    const started = this.app.api.upload(path, file, {
      ifMatch,
      onProgress: (loaded, total) => this._progress(loaded, total),
    });
    const subject = this.subject;
    this.upload = { kind, filename: file.name, loaded: 0, total: file.size, cancel: started.cancel };
    this.message = null;
    this.draw();
    if (kind === 'attach') this.panel.querySelector('[data-key="doc-cancel-upload"]')?.focus();
    try {
      const feature = await started.promise;
      if (feature?.id) this.app.store.applyFeature('document', feature);
      return feature;
    } catch (error) {
      // A stale version: the answer holds the document as it stands, shown at once.
      const current = error?.body?.current;
      if (error?.status === 412 && current?.id) this.app.store.applyFeature('document', current);
      const text = error instanceof UploadCancelled ? t('documents.cancelled', { name: file.name }) : uploadError(error);
      // The panel moved on to another object meanwhile: the outcome is said where it is seen.
      if (this.subject !== subject) this.app.toast(text, 'error');
      else this.message = { kind: error instanceof UploadCancelled ? 'info' : 'error', text };
      return null;
    } finally {
      const hadFocus = this.panel.contains(globalThis.document?.activeElement);
      this.upload = null;
      this.draw();
      // The cancel button went with the upload: the focus goes back to the form, or its toggle.
      if (hadFocus) (this.panel.querySelector('[data-key="doc-upload"]') || this.panel.querySelector('[data-key="doc-attach"]'))?.focus();
    }
  }

  _say(kind, text, subject = this.subject) {
    if (subject !== this.subject) {
      this.app.toast(text, kind === 'error' ? 'error' : 'info');
      return null;
    }
    this.message = { kind, text };
    this.draw();
    return null;
  }

  _progress(loaded, total) {
    if (!this.upload) return;
    this.upload.loaded = loaded;
    this.upload.total = total || this.upload.total;
    const bar = this.panel.querySelector('progress.doc-progress');
    const text = this.panel.querySelector('.doc-progress-text');
    if (bar) {
      bar.max = Math.max(this.upload.total, 1);
      bar.value = loaded;
    }
    if (text) text.textContent = this._progressText();
  }

  _progressText() {
    const u = this.upload;
    const percent = Math.min(100, Math.round((u.loaded / Math.max(u.total, 1)) * 100));
    return t(u.kind === 'version' ? 'documents.uploading_version' : 'documents.uploading', {
      name: u.filename, percent, sent: formatSize(u.loaded), total: formatSize(u.total),
    });
  }

  // ---- the attach form and the upload's line

  draw() {
    const active = globalThis.document?.activeElement;
    const hadFocus = active && this.panel.contains(active) ? active.dataset.key : null;
    fill(this.attachEl, this.mayAttach && this.subject ? this._attachPart() : null);
    this._drawStatus();
    if (hadFocus) (this.panel.querySelector(`[data-key="${hadFocus}"]`) || this.panel.querySelector('[data-key="doc-attach"]'))?.focus();
  }

  _attachPart() {
    const id = (part) => `${this.name}-doc-${part}`;
    const toggle = h('button', {
      type: 'button', class: 'doc-attach', dataset: { key: 'doc-attach' }, 'aria-expanded': String(this.form.open), 'aria-controls': id('form'),
      disabled: Boolean(this.upload) && !this.form.open,
      onclick: () => {
        const opening = !this.form.open;
        this.form = { ...this._blankForm(), open: opening };
        this.message = null;
        this.draw();
        if (opening) this.panel.querySelector('[data-key="doc-file"]')?.focus();
      },
    }, t('documents.attach'));
    if (!this.form.open) return toggle;
    const busy = Boolean(this.upload);
    const file = this.form.file;
    const fileInput = h('input', { type: 'file', accept: ACCEPT, id: id('file'), dataset: { key: 'doc-file' }, disabled: busy, 'aria-describedby': id('drop') });
    fileInput.addEventListener('change', () => {
      this.form.file = fileInput.files?.[0] || null;
      this.message = null;
      this.draw();
    });
    const set = (field) => (e) => {
      this.form[field] = e.target.type === 'checkbox' ? e.target.checked : e.target.value;
    };
    const closeForm = () => {
      this.form = this._blankForm();
      this.message = null;
      this.draw();
      this.panel.querySelector('[data-key="doc-attach"]')?.focus();
    };
    return [toggle, h('form', {
      class: 'doc-form', id: id('form'), 'aria-label': t('documents.attach_to', { object: label('entity', this.subject.entity) }), novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        this.attach();
      },
      // Escape closes the form (not the board around it); during an upload it leaves it be.
      onkeydown: (e) => {
        if (e.key !== 'Escape' || e.defaultPrevented) return;
        e.preventDefault();
        if (!this.upload) closeForm();
      },
    },
      h('div', { class: 'field' },
        h('label', { for: id('file') }, t('documents.file')),
        fileInput,
        h('p', { class: 'muted doc-drop-hint', id: id('drop') }, t('documents.drop_hint')),
        file ? h('p', { class: 'doc-chosen', dataset: { key: 'doc-chosen' } }, t('documents.chosen', { name: file.name, size: formatSize(file.size) })) : null),
      h('div', { class: 'field' },
        h('label', { for: id('title') }, t('documents.title_optional')),
        h('input', { type: 'text', id: id('title'), dataset: { key: 'doc-title' }, maxlength: String(TITLE_MAX), value: this.form.title, placeholder: file?.name || '', disabled: busy, oninput: set('title') })),
      h('div', { class: 'field' },
        h('label', { for: id('description') }, t('documents.description_optional')),
        h('textarea', { id: id('description'), dataset: { key: 'doc-description' }, maxlength: String(DESCRIPTION_MAX), rows: '2', disabled: busy, oninput: set('description') }, this.form.description)),
      h('div', { class: 'doc-share' },
        h('input', { type: 'checkbox', id: id('shareable'), dataset: { key: 'doc-shareable' }, checked: this.form.shareable, disabled: busy, 'aria-describedby': id('share-hint'), onchange: set('shareable') }),
        h('label', { for: id('shareable') }, t('documents.shareable')),
        h('p', { class: 'muted', id: id('share-hint') }, t('documents.shareable_hint', { object: label('entity', this.subject.entity) }))),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', dataset: { key: 'doc-upload' }, disabled: busy }, t('documents.upload')),
        h('button', { type: 'button', dataset: { key: 'doc-cancel-form' }, disabled: busy, onclick: closeForm }, t('documents.close_form'))),
    )];
  }

  _drawStatus() {
    const u = this.upload;
    const m = this.message;
    fill(this.liveEl,
      u
        ? h('div', { class: 'doc-uploading' },
            h('span', { class: 'doc-progress-text' }, this._progressText()),
            h('progress', { class: 'doc-progress', max: String(Math.max(u.total, 1)), value: String(u.loaded), 'aria-label': t('documents.progress', { name: u.filename }) }),
            h('button', { type: 'button', dataset: { key: 'doc-cancel-upload' }, onclick: () => u.cancel() }, t('documents.cancel_upload')))
        : null,
      m && m.kind !== 'error' ? h('p', { class: ['doc-message', `doc-${m.kind}`] }, m.text) : null);
    fill(this.alertEl, m?.kind === 'error' ? h('p', { class: 'doc-message doc-error' }, m.text) : null);
  }
}
