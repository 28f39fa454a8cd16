// A list whose rows are kept by key. Each update names the rows in order with a stamp (what the
// row shows depends on); a row is drawn again only when its stamp changed, and moved only when
// its place did, so a live change touches the rows it concerns and leaves the others' DOM (and
// a keyboard user's focus in them) alone.

export class KeyedList {
  /**
   * @param el      the list element (it holds the rows and nothing else)
   * @param render  (value, key) → the row's element
   */
  constructor(el, render) {
    this.el = el;
    this.render = render;
    this.rows = new Map();
  }

  /**
   * Show `items` ([{key, stamp, value}]) in this order. Answers what it wrote: rows drawn
   * (new or changed), moved and removed.
   */
  update(items) {
    const counts = { drawn: 0, moved: 0, removed: 0 };
    const wanted = new Set();
    for (const item of items) {
      wanted.add(item.key);
      const row = this.rows.get(item.key);
      if (row && row.stamp === item.stamp) continue;
      const el = this.render(item.value, item.key);
      el.dataset.row = item.key;
      if (row) replaceKeepingFocus(row.el, el);
      this.rows.set(item.key, { el, stamp: item.stamp });
      counts.drawn += 1;
    }
    for (const [key, row] of this.rows) {
      if (wanted.has(key)) continue;
      row.el.remove();
      this.rows.delete(key);
      counts.removed += 1;
    }
    // One pass in the wanted order; a row found in the way that belongs further down is
    // stepped over and placed at its own turn, so moving one row costs one move.
    let cursor = this.el.firstChild;
    for (const item of items) {
      const el = this.rows.get(item.key).el;
      if (el === cursor) {
        cursor = cursor.nextSibling;
      } else if (cursor && cursor.nextSibling === el) {
        cursor = el.nextSibling;
      } else {
        this.el.insertBefore(el, cursor);
        counts.moved += 1;
      }
    }
    return counts;
  }

  /** Forget every row (a language change draws them all again). */
  clear() {
    this.rows.clear();
    this.el.replaceChildren();
  }
}

function replaceKeepingFocus(old, el) {
  const active = old.ownerDocument.activeElement;
  const key = active && old.contains(active) ? active.dataset.key : null;
  old.replaceWith(el);
  if (key) el.querySelector(`[data-key="${globalThis.CSS?.escape ? CSS.escape(key) : key}"]`)?.focus();
}
