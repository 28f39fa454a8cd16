// Short messages over the map: what happened (an error, a severe incident, an acknowledgement),
// with an optional action. Errors are announced assertively, the rest politely.
import { t } from '../i18n.js';
import { h, $ } from '../dom.js';

const LIMIT = 5;

export class Toasts {
  constructor(root) {
    this.root = root;
  }

  show(text, kind = 'info', { action = null, timeout = 12000 } = {}) {
    const box = $('#toasts', this.root);
    if (!box) return;
    const item = h(
      'div',
      { class: ['toast', ...kind.split(' ').map((k) => `toast-${k}`)], role: kind.startsWith('error') ? 'alert' : 'status' },
      action ? h('button', { class: 'toast-text', onclick: () => { action(); item.remove(); } }, text) : h('span', { class: 'toast-text' }, text),
      h('button', { class: 'toast-close', 'aria-label': t('alert.dismiss'), onclick: () => item.remove() }, '×'),
    );
    box.prepend(item);
    while (box.children.length > LIMIT) box.lastChild.remove();
    setTimeout(() => item.remove(), timeout);
  }
}
