// Phones and tablets (issue 21): below 900 px the styles lay the map under the top bar and the
// panels in a sheet over it (styles.css). This wires that layout's controls: the menu button
// (the header's controls), the sheet's grip (collapsed to its tabs, or open), the legend's
// button. On the desktop none of them is shown and nothing here changes what it does.
import { $ } from '../dom.js';

export const NARROW = '(max-width: 900px)';

export class Mobile {
  constructor(app, { media = window.matchMedia(NARROW) } = {}) {
    this.app = app;
    this.media = media;
    this.bar = $('.topbar', app.root);
    this.toggle = $('#menu-toggle', app.root);
    this.side = $('.side', app.root);
    this.grip = $('#sheet-toggle', app.root);
    this.legendButton = $('#legend-open', app.root);
    this.toggle?.addEventListener('click', () => this.menu(!this.menuOpen));
    this.grip?.addEventListener('click', () => this.sheet(this.collapsed));
    this.legendButton?.addEventListener('click', () => {
      this.legend(!document.body.classList.contains('legend-open'));
      this.menu(false);
    });
    // A tap on the open tab of an open sheet folds it; on any other, App.showTab opens it.
    // These listeners run before the tabs' own (App._tabs adds those after this is made).
    for (const tab of app.root.querySelectorAll('.side [role="tab"]')) {
      tab.addEventListener('click', () => {
        this._fold = this.narrow && tab.getAttribute('aria-selected') === 'true' && !this.collapsed;
      });
    }
    const onKey = (e) => {
      if (e.key !== 'Escape') return;
      if (this.menuOpen) {
        this.menu(false);
        this.toggle.focus();
      } else if (document.body.classList.contains('legend-open')) {
        this.legend(false);
        this.legendButton?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    app.cleanups.push(() => document.removeEventListener('keydown', onKey));
  }

  /** On a phone or tablet the map comes first: the sheet starts folded to its tabs. */
  fold() {
    if (this.narrow) this.sheet(false);
  }

  get narrow() {
    return this.media.matches;
  }

  get menuOpen() {
    return this.bar?.classList.contains('menu-open') ?? false;
  }

  get collapsed() {
    return this.side?.classList.contains('sheet-collapsed') ?? false;
  }

  menu(open) {
    if (!this.bar || !this.toggle) return;
    this.bar.classList.toggle('menu-open', open);
    this.toggle.setAttribute('aria-expanded', String(open));
    if (open) $('#topbar-menu input, #topbar-menu select, #topbar-menu button:not([hidden])', this.app.root)?.focus();
  }

  sheet(open) {
    if (!this.side) return;
    this.side.classList.toggle('sheet-collapsed', !open);
    this.grip?.setAttribute('aria-expanded', String(open));
  }

  legend(open) {
    document.body.classList.toggle('legend-open', open);
    this.legendButton?.setAttribute('aria-expanded', String(open));
  }

  /** A panel was asked for (a tab, a selection on the map): the sheet opens to show it. */
  shown() {
    if (this.narrow) this.sheet(!this._fold);
    this._fold = false;
  }
}
