// The top bar: who is signed in, language, theme, sound, the wall link, log out, the count of
// unread severe incidents, the national threat level and the connection's state. The wall view
// has only the last two (and the sector levels listed under its badge).
import { formatTime } from '../time.js';
import { label, language, onLanguage, rememberLanguage, setLanguage, t, LANGUAGES } from '../i18n.js';
import { applyTheme, themeChoice, THEME_CHOICES } from '../theme.js';
import { beep, setSound, soundOn } from '../sound.js';
import { h, fill, $ } from '../dom.js';
import { ThreatBadge } from '../threat.js';
import { ThreatForm } from './threat-form.js';
import { pushToggle } from '../push.js';

// Each language's name in itself, as a language menu shows them.
const CATALOGUE_NAMES = { fr: 'Français', nl: 'Nederlands', en: 'English' };

export class Header {
  constructor(app) {
    this.app = app;
    this.root = app.root;
    this.unread = 0;
    this.connection = null;
    this._who();
    this._language();
    this._theme();
    this._sound();
    this._push();
    // The replay (and any view of the past) calls app.threat.show(at) / live().
    this.threat = new ThreatBadge(app, $('#threat', this.root), { details: $('#wall-threat', this.root) });
    app.threat = this.threat;
    this._threatForm();
    $('#logout', this.root)?.addEventListener('click', () => app.logout());
    const wallLink = $('#wall-link', this.root);
    if (wallLink) wallLink.href = '?mode=wall';
    $('#unread', this.root)?.addEventListener('click', () => {
      this.setUnread(0);
      app.showTab('feed');
      app.panels.feed?.showSevere();
    });
    app.cleanups.push(onLanguage(() => this.renderStatus()));
  }

  // Recording a setting OCAM/CUTA made, for those who may (never in a replay: can() reads only).
  _threatForm() {
    const button = $('#threat-set', this.root);
    if (!button || !$('#threat-form', this.root) || !this.app.can('threat_level:create')) return;
    const form = new ThreatForm(this.app);
    button.hidden = false;
    button.addEventListener('click', () => form.open());
  }

  // A SITCEN cell member's device takes the pages of the seats they hold (Web Push): the switch
  // sits with the other preferences of this device. A partner has it in its alerts inbox.
  _push() {
    const prefs = $('.prefs', this.root);
    const who = $('#whoami', this.root);
    if (!prefs || !who || this.app.me?.role === 'partner' || !this.app.can('push:subscribe')) return;
    this.push = pushToggle(this.app.api, { onError: (e) => this.app.apiError(e) });
    this.push.classList.add('header-push');
    // The header has no room for why it cannot be switched on: that goes in the tooltip (the
    // status stays for screen readers).
    const status = this.push.querySelector('.push-toggle-status');
    status?.classList.add('sr-only');
    const hint = () => {
      this.push.title = [t('push.staff_hint'), status?.textContent].filter(Boolean).join('\n');
    };
    hint();
    const observer = globalThis.MutationObserver && status ? new MutationObserver(hint) : null;
    observer?.observe(status, { childList: true, characterData: true, subtree: true });
    this.app.cleanups.push(() => observer?.disconnect());
    prefs.insertBefore(this.push, who);
    this.app.cleanups.push(() => this.push.destroy());
    this.app.cleanups.push(onLanguage(hint));
  }

  _who() {
    const who = $('#whoami', this.root);
    if (!who) return;
    const { user, me } = this.app;
    const render = () => fill(who, t('header.user', { name: user.full_name || user.username, role: label('role', me.role) }));
    render();
    this.app.cleanups.push(onLanguage(render));
  }

  _language() {
    const lang = $('#lang', this.root);
    if (!lang) return;
    fill(lang, LANGUAGES.map((l) => h('option', { value: l, lang: l }, CATALOGUE_NAMES[l])));
    lang.value = language();
    this.app.cleanups.push(onLanguage((l) => { lang.value = l; }));
    lang.addEventListener('change', () => {
      setLanguage(lang.value);
      rememberLanguage(lang.value);
      this.app.saveLanguage(lang.value);
    });
  }

  _theme() {
    const theme = $('#theme', this.root);
    if (!theme) return;
    const render = () => {
      fill(theme, THEME_CHOICES.map((c) => h('option', { value: c }, t(`theme.${c}`))));
      theme.value = themeChoice();
    };
    render();
    this.app.cleanups.push(onLanguage(render));
    theme.addEventListener('change', () => applyTheme(theme.value));
  }

  _sound() {
    const sound = $('#sound', this.root);
    if (!sound) return;
    sound.checked = soundOn();
    sound.addEventListener('change', () => {
      setSound(sound.checked);
      if (sound.checked) beep();
    });
  }

  /** The connection's state, from the live client: live, catching up, reconnecting since… */
  setStatus(connection) {
    this.connection = connection;
    this.renderStatus();
  }

  renderStatus() {
    const el = $('#conn', this.root);
    if (!el || !this.connection) return;
    const { status, offlineSince, error } = this.connection;
    el.dataset.status = status;
    const since = offlineSince && status !== 'live' ? ` ${t('status.since', { time: formatTime(offlineSince) })}` : '';
    fill($('.conn-text', el), t(`status.${status}`) + since);
    el.title = error || t('status.label');
  }

  setUnread(n) {
    this.unread = n;
    const button = $('#unread', this.root);
    if (!button) return;
    button.hidden = n === 0;
    fill(button, String(n));
    button.setAttribute('aria-label', t('header.unread', { n }));
    button.title = t('header.unread', { n });
  }
}
