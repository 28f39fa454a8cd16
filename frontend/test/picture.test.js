import { describe, expect, it } from 'vitest';
import { PictureSync } from '../src/sync.js';

const feature = (exercise) => ({ type: 'Feature', id: 'x', geometry: null, properties: { exercise } });

describe('the picture shown', () => {
  it('keeps exercise objects out of the real picture and real ones out of the exercise picture', () => {
    const sync = new PictureSync({ api: null, store: null, readable: () => true });
    expect(sync.inPicture(feature(false), 'incident')).toBe(true);
    expect(sync.inPicture(feature(true), 'incident')).toBe(false);
    sync.picture = 'exercise';
    expect(sync.inPicture(feature(false), 'incident')).toBe(false);
    expect(sync.inPicture(feature(true), 'incident')).toBe(true);
  });

  it('shows the real national threat level in both pictures, a played one only in the exercise', () => {
    const sync = new PictureSync({ api: null, store: null, readable: () => true });
    sync.picture = 'exercise';
    expect(sync.inPicture(feature(false), 'threat_level')).toBe(true);
    sync.picture = 'real';
    expect(sync.inPicture(feature(true), 'threat_level')).toBe(false);
  });
});
