// The one way a state holder tells its views that something changed.
export class Emitter {
  constructor() {
    this.listeners = new Set();
  }

  /** Call `listener(event)` on every change; returns the function that stops it. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event) {
    for (const listener of this.listeners) listener(event);
  }
}
