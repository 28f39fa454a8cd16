// An optional alert tone for new severe incidents, synthesised (no audio file to fetch).
const KEY = 'sitcen.sound';
let context = null;

export function soundOn() {
  return globalThis.localStorage?.getItem(KEY) === 'on';
}

export function setSound(on) {
  globalThis.localStorage?.setItem(KEY, on ? 'on' : 'off');
}

export function beep(extreme = false) {
  if (!soundOn()) return;
  try {
    context = context || new AudioContext();
    const tones = extreme ? [880, 660, 880] : [740, 988];
    let at = context.currentTime;
    for (const frequency of tones) {
      const osc = context.createOscillator();
      const gain = context.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.15, at);
      gain.gain.exponentialRampToValueAtTime(0.001, at + 0.22);
      osc.connect(gain).connect(context.destination);
      osc.start(at);
      osc.stop(at + 0.24);
      at += 0.26;
    }
  } catch {
    // No audio device (a wall screen without speakers): the visual alert is enough.
  }
}
