// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiError, UploadCancelled } from '../src/api.js';
import { Board } from '../src/panels/board.js';
import { Detail } from '../src/panels/detail.js';
import { DocumentShelf, formatSize, uploadError } from '../src/panels/documents.js';
import { setLanguage } from '../src/i18n.js';
import { board, feature, NOW } from './board-fixtures.js';
import { FakeApp } from './fakes.js';

const STAFF = ['activation:read', 'position:read', 'task:read', 'checklist:read', 'decision:read', 'document:read', 'logbook_entry:read', 'incident:read'];
const WRITER = [...STAFF, 'document:create', 'document:update'];
const PROBLEM = 'https://sitcen.safe.brussels/problems/';

let app;

beforeEach(() => {
  setLanguage('fr');
  window.history.replaceState(null, '', '/');
});

afterEach(() => {
  app?.stop();
  setLanguage('fr');
});

function openBoard(permissions = WRITER, me) {
  app = new FakeApp({ store: board(), permissions, me });
  const panel = new Board(app, { now: () => NOW, win: window });
  panel.open('A');
  return panel;
}

const pdf = (name = 'plan.pdf', size = 2048) => new File([new Uint8Array(size)], name, { type: 'application/pdf' });

describe("a refused upload, as the user reads it", () => {
  it('names the type the file is and what is accepted (415)', () => {
    const refused = new ApiError(415, { type: `${PROBLEM}unsupported-media-type`, status: 415, detail: 'text/html is not accepted', sniffed: 'text/html', allowed: ['application/pdf'] });
    expect(uploadError(refused)).toMatch(/^Ce type de fichier n'est pas accepté \(le fichier est text\/html\)\. Acceptés : PDF/);
    setLanguage('nl');
    expect(uploadError(refused)).toMatch(/^Dit bestandstype wordt niet aanvaard \(het bestand is text\/html\)/);
  });

  it('gives the limit of a file too large in the user’s language (413), with or without the number', () => {
    setLanguage('en');
    const tooLarge = new ApiError(413, { type: `${PROBLEM}payload-too-large`, detail: 'the file exceeds the library’s limit of 250000000 bytes', max_bytes: 250000000 });
    expect(uploadError(tooLarge)).toBe('The file is too large: the library takes up to 250.0 MB a file. Nothing was stored.');
    expect(uploadError(new ApiError(413, { detail: 'request body exceeds 10 bytes' }))).toBe('The file is too large for the library. Nothing was stored.');
  });

  it('says a stale version, a vanished subject and an unreachable server in words, and the server’s detail otherwise', () => {
    expect(uploadError(new ApiError(412, {}))).toMatch(/^Quelqu'un a modifié ce document/);
    expect(uploadError(new ApiError(404, {}))).toMatch(/n'est plus dans votre image/);
    expect(uploadError(new TypeError('no answer'))).toBe("L'envoi a échoué : Serveur injoignable ; vérifiez la connexion réseau.");
    expect(uploadError(new ApiError(422, { detail: 'subject_entity: unknown kind' }))).toBe("L'envoi a échoué : subject_entity: unknown kind");
  });

  it('reads sizes in decimal units', () => {
    expect([formatSize(0), formatSize(999), formatSize(1000), formatSize(2400000)]).toEqual(['0 B', '999 B', '1.0 kB', '2.4 MB']);
  });
});

// An XMLHttpRequest a test plays: it records what was sent, and answers when told.
class FakeXHR {
  static all = [];
  constructor() {
    this.headers = {};
    this.upload = {};
    FakeXHR.all.push(this);
  }
  open(method, url) {
    Object.assign(this, { method, url });
  }
  setRequestHeader(name, value) {
    this.headers[name] = value;
  }
  send(body) {
    this.body = body;
  }
  progress(loaded, total) {
    this.upload.onprogress({ loaded, total, lengthComputable: true });
  }
  answer(status, body) {
    Object.assign(this, { status, responseText: body == null ? '' : JSON.stringify(body) });
    this.onload();
  }
  abort() {
    this.onabort();
  }
}

describe('Api.upload', () => {
  function api() {
    FakeXHR.all = [];
    const storage = new Map();
    const a = new Api({ XHR: FakeXHR, storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, v), removeItem: (k) => storage.delete(k) }, fetchImpl: vi.fn() });
    a.session = { access_token: 'tok', refresh_token: 'ref', expires_at: Date.now() + 900000 };
    return a;
  }

  it('sends the file itself as the body with the token and If-Match, reports progress, answers the JSON', async () => {
    const a = api();
    const seen = [];
    const file = pdf();
    const { promise } = a.upload('/api/documents/d1/versions?filename=plan.pdf', file, { ifMatch: 3, onProgress: (l, t) => seen.push([l, t]) });
    const xhr = FakeXHR.all[0];
    expect([xhr.method, xhr.url, xhr.body]).toEqual(['POST', '/api/documents/d1/versions?filename=plan.pdf', file]);
    expect(xhr.headers).toMatchObject({ Authorization: 'Bearer tok', 'If-Match': '"3"' });
    xhr.progress(1024, 2048);
    xhr.answer(201, { type: 'Feature', id: 'd1', properties: { version: 4 } });
    expect((await promise).id).toBe('d1');
    expect(seen).toEqual([[1024, 2048]]);
  });

  it('rejects with the problem+json as an ApiError, and with UploadCancelled when stopped', async () => {
    const a = api();
    const refused = a.upload('/api/documents', pdf());
    FakeXHR.all[0].answer(415, { detail: 'no', sniffed: 'text/html' });
    await expect(refused.promise).rejects.toMatchObject({ status: 415, body: { sniffed: 'text/html' } });
    const stopped = a.upload('/api/documents', pdf());
    stopped.cancel();
    await expect(stopped.promise).rejects.toBeInstanceOf(UploadCancelled);
  });

  it('refreshes an expired token once and sends the file again', async () => {
    const a = api();
    a.refresh = vi.fn(async () => {
      a.session = { ...a.session, access_token: 'tok2' };
    });
    const { promise } = a.upload('/api/documents', pdf());
    FakeXHR.all[0].answer(401, { detail: 'expired' });
    await vi.waitFor(() => expect(FakeXHR.all).toHaveLength(2));
    expect(FakeXHR.all[1].headers.Authorization).toBe('Bearer tok2');
    FakeXHR.all[1].answer(201, { id: 'x' });
    expect(await promise).toEqual({ id: 'x' });
  });
});

describe('attaching a document on the activation board', () => {
  it('is offered to a writer of documents, not to a reader nor to a partner', () => {
    expect(openBoard().el.querySelector('.board-documents [data-key="doc-attach"]')).not.toBeNull();
    app.stop();
    expect(openBoard(STAFF).el.querySelector('[data-key="doc-attach"]')).toBeNull();
    expect(openBoard(STAFF).el.querySelector('[data-key$="-version"]')).toBeNull();
    app.stop();
    const partner = openBoard([...WRITER], { role: 'partner', organisation: 'pz-5339' });
    expect(partner.el.querySelector('[data-key="doc-attach"]')).toBeNull();
  });

  it('uploads the chosen file onto the activation, internal unless ticked, and lists the answer', async () => {
    const panel = openBoard();
    const section = panel.el.querySelector('.board-documents');
    section.querySelector('[data-key="doc-attach"]').click();
    expect(section.querySelector('[data-key="doc-attach"]').getAttribute('aria-expanded')).toBe('true');
    const shareable = section.querySelector('#board-doc-shareable');
    expect(shareable.checked).toBe(false);
    // What the box means is said beside it, and read with it.
    expect(shareable.getAttribute('aria-describedby')).toBe('board-doc-share-hint');
    expect(section.querySelector('#board-doc-share-hint').textContent).toContain('Activation GCC');
    panel.documents.form.file = pdf('ppui-v3.pdf');
    const title = section.querySelector('#board-doc-title');
    title.value = 'PPUI à jour';
    title.dispatchEvent(new Event('input'));
    app.api.answer(feature('doc-new', { activation_id: 'A', subject_entity: 'activation', subject_id: 'A', title: 'PPUI à jour', filename: 'ppui-v3.pdf', content_type: 'application/pdf', size: 2048, shareable: false, current_version: 1, updated_at: '2026-12-07T09:59:00Z' }));
    let release;
    app.api.gate = new Promise((resolve) => {
      release = resolve;
    });
    section.querySelector('form.doc-form').dispatchEvent(new Event('submit', { cancelable: true }));
    // While it goes: the bytes sent, and a way to stop it.
    await vi.waitFor(() => expect(section.querySelector('.doc-progress-text')?.textContent).toBe('Envoi de ppui-v3.pdf : 50 % (1.0 kB sur 2.0 kB)'));
    expect(section.querySelector('[data-key="doc-cancel-upload"]')).not.toBeNull();
    expect(section.querySelector('#board-doc-title').disabled).toBe(true);
    release();
    await vi.waitFor(() => expect(section.querySelector('.doc-ok')?.textContent).toBe('« PPUI à jour » joint.'));
    const sent = app.api.requests.at(-1);
    const query = new URL(sent.path, 'http://x').searchParams;
    expect(Object.fromEntries(query)).toEqual({ subject_entity: 'activation', subject_id: 'A', filename: 'ppui-v3.pdf', shareable: 'false', title: 'PPUI à jour' });
    panel.flush();
    expect(panel.el.querySelector('[data-row="doc-new"]').textContent).toContain('Interne');
    expect(section.querySelector('form.doc-form')).toBeNull();
  });

  it('keeps the form and says why when the API refuses the file', async () => {
    const panel = openBoard();
    const section = panel.el.querySelector('.board-documents');
    section.querySelector('[data-key="doc-attach"]').click();
    section.querySelector('form.doc-form').dispatchEvent(new Event('submit', { cancelable: true }));
    expect(section.querySelector('[role="alert"]').textContent).toBe("Choisissez d'abord un fichier.");
    panel.documents.form.file = pdf('virus.pdf');
    app.api.answer(new ApiError(415, { type: `${PROBLEM}unsupported-media-type`, sniffed: 'application/x-executable' }));
    section.querySelector('form.doc-form').dispatchEvent(new Event('submit', { cancelable: true }));
    await vi.waitFor(() => expect(section.querySelector('[role="alert"]').textContent).toContain('(le fichier est application/x-executable)'));
    expect(section.querySelector('form.doc-form')).not.toBeNull();
    expect(section.querySelector('.doc-chosen').textContent).toBe('Choisi : virus.pdf (2.0 kB)');
  });

  it('uploads a new version of a row with the version it shows, and shows the current one when it was stale', async () => {
    const panel = openBoard();
    const chosen = [];
    vi.spyOn(window.HTMLInputElement.prototype, 'click').mockImplementation(function click() {
      chosen.push(this);
    });
    panel.el.querySelector('[data-row="doc-pdf"] [data-key="doc-doc-pdf-version"]').click();
    vi.restoreAllMocks();
    const input = chosen[0];
    Object.defineProperty(input, 'files', { value: [pdf('ppui-v3.pdf')] });
    const current = app.store.get('document', 'doc-pdf');
    app.api.answer(new ApiError(412, { type: `${PROBLEM}stale-version`, current: { ...current, properties: { ...current.properties, version: 5, current_version: 3 } } }));
    input.dispatchEvent(new Event('change'));
    await vi.waitFor(() => expect(panel.el.querySelector('[role="alert"]').textContent).toMatch(/^Quelqu'un a modifié ce document/));
    const sent = app.api.requests.at(-1);
    expect([sent.path, sent.ifMatch]).toEqual(['/api/documents/doc-pdf/versions?filename=ppui-v3.pdf', 1]);
    expect(app.store.get('document', 'doc-pdf').properties.version).toBe(5);
  });

  it('closes the form on Escape and leaves the board open', () => {
    const panel = openBoard();
    panel.el.querySelector('[data-key="doc-attach"]').click();
    panel.el.querySelector('#board-doc-title').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
    expect(panel.el.querySelector('form.doc-form')).toBeNull();
    expect(panel.el.hidden).toBe(false);
    expect(document.activeElement.dataset.key).toBe('doc-attach');
  });

  it('opens the form with a file dropped onto the section', () => {
    const panel = openBoard();
    const section = panel.el.querySelector('.board-documents');
    const file = pdf('photo.pdf');
    const drag = (type) => {
      const e = new Event(type, { bubbles: true, cancelable: true });
      Object.defineProperty(e, 'dataTransfer', { value: { types: ['Files'], files: [file], dropEffect: 'none' } });
      section.dispatchEvent(e);
      return e;
    };
    expect(drag('dragover').defaultPrevented).toBe(true);
    expect(section.classList.contains('doc-drop')).toBe(true);
    drag('drop');
    expect(section.classList.contains('doc-drop')).toBe(false);
    expect(section.querySelector('.doc-chosen').textContent).toBe('Choisi : photo.pdf (2.0 kB)');
    expect(document.activeElement.id).toBe('board-doc-title');
  });
});

describe("an object's detail", () => {
  function openDetail(permissions = WRITER, me) {
    app = new FakeApp({ store: board(), permissions, me });
    app.root.append(Object.assign(document.createElement('div'), { id: 'panel-detail' }));
    app.panels = {};
    app.openDetail = () => {};
    app.showTab = () => {};
    const detail = new Detail(app);
    return detail;
  }

  it("lists the documents attached to the object with the board's row, and offers to attach one", async () => {
    const detail = openDetail();
    app.store.applyFeature('document', feature('doc-inc', { subject_entity: 'incident', subject_id: 'inc-1', title: 'Rapport police', filename: 'pv.pdf', content_type: 'application/pdf', size: 5000, shareable: true, current_version: 1 }));
    app.store.applyFeature('document', feature('doc-other', { subject_entity: 'zone', subject_id: 'inc-1', title: 'Not this one', filename: 'x.pdf' }));
    await detail.open('incident', 'inc-1');
    const section = detail.el.querySelector('.detail-documents');
    expect(section.querySelector('h3').textContent).toBe('Documents');
    const rows = [...section.querySelectorAll('.board-document')];
    expect(rows.map((r) => r.dataset.row)).toEqual(['doc-inc']);
    expect(rows[0].textContent).toContain('Partagé');
    expect(rows[0].querySelector('[data-key="doc-doc-inc-preview"]')).not.toBeNull();
    expect(section.querySelector('[data-key="doc-attach"]')).not.toBeNull();
    // A document arriving live joins the list.
    app.store.applyFeature('document', feature('doc-inc-2', { subject_entity: 'incident', subject_id: 'inc-1', title: 'Photo', filename: 'p.png', content_type: 'image/png', updated_at: '2026-12-07T11:00:00Z' }));
    await vi.waitFor(() => expect(section.querySelectorAll('.board-document')).toHaveLength(2));
  });

  it('shows no documents section to a reader without document:read, and no attach button to a partner', async () => {
    let detail = openDetail(['incident:read']);
    await detail.open('incident', 'inc-1');
    expect(detail.el.querySelector('.detail-documents')).toBeNull();
    app.stop();
    detail = openDetail(['incident:read', 'document:read'], { role: 'partner', organisation: 'pz-5339' });
    await detail.open('incident', 'inc-1');
    expect(detail.el.querySelector('.detail-documents')).not.toBeNull();
    expect(detail.el.querySelector('[data-key="doc-attach"]')).toBeNull();
    expect(detail.el.querySelector('.detail-documents .muted').textContent).toBe('Aucun document joint.');
  });
});

describe('DocumentShelf', () => {
  it('writes a long description after the upload, by a PATCH of the document: the query string stays short', async () => {
    app = new FakeApp({ store: board(), permissions: WRITER });
    const shelf = new DocumentShelf(app, 't');
    shelf.setSubject('incident', 'inc-1');
    const long = 'Évacuation '.repeat(600);
    shelf.form = { ...shelf.form, open: true, file: pdf(), description: long };
    app.api.answer(feature('d', { title: 'plan.pdf', version: 1 }));
    app.api.answer(feature('d', { title: 'plan.pdf', version: 2, description: long.trim() }));
    await shelf.attach();
    const [upload, patch] = app.api.requests;
    expect(new URL(upload.path, 'http://x').searchParams.has('description')).toBe(false);
    expect([patch.method, patch.path, patch.ifMatch, patch.body.properties.description]).toEqual(['PATCH', '/api/documents/d', 1, long.trim()]);
    expect(app.store.get('document', 'd').properties.version).toBe(2);
    // A short one goes with the upload.
    shelf.form = { ...shelf.form, open: true, file: pdf(), description: 'Version signée' };
    app.api.answer(feature('e', { title: 'plan.pdf' }));
    await shelf.attach();
    expect(new URL(app.api.requests.at(-1).path, 'http://x').searchParams.get('description')).toBe('Version signée');
  });

  it('says the outcome in a toast when the panel moved on to another object during the upload', async () => {
    app = new FakeApp({ store: board(), permissions: WRITER });
    const shelf = new DocumentShelf(app, 't');
    shelf.setSubject('incident', 'inc-1');
    shelf.form = { ...shelf.form, open: true, file: pdf('pv.pdf') };
    app.api.answer(feature('d', { title: 'PV' }));
    const going = shelf.attach();
    shelf.setSubject('zone', 'z-1');
    await going;
    expect(app.toasts).toEqual([{ text: '« PV » joint.', kind: 'info' }]);
    expect(shelf.panel.querySelector('.doc-ok')).toBeNull();
  });

  it('attaches nothing while an upload is under way', async () => {
    app = new FakeApp({ store: board(), permissions: WRITER });
    const shelf = new DocumentShelf(app, 't');
    shelf.setSubject('incident', 'inc-1');
    shelf.form = { ...shelf.form, open: true, file: pdf() };
    app.api.answer(feature('d', { title: 'x' }));
    const first = shelf.attach();
    shelf.form.file = pdf();
    expect(await shelf.attach()).toBeNull();
    await first;
    expect(app.api.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});
