import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, newIdempotencyKey } from '../src/api.js';
import { errorDetail } from '../src/format.js';
import { setLanguage } from '../src/i18n.js';

describe('a failed request, as the operator reads it', () => {
  afterEach(() => setLanguage('en'));

  it('gives the server’s own detail for what it refused', () => {
    const refused = new ApiError(422, { title: 'Validation failed', detail: 'properties.title: Field required' });
    expect(errorDetail(refused)).toBe('properties.title: Field required');
  });

  it('says in the operator’s language that the database is down, not the server’s English', () => {
    const down = new ApiError(503, { title: 'Database unavailable', detail: 'the database cannot be reached right now' });
    setLanguage('fr');
    expect(errorDetail(down)).toMatch(/^Service momentanément indisponible/);
    setLanguage('nl');
    expect(errorDetail(down)).toMatch(/^Dienst tijdelijk niet beschikbaar/);
  });

  it('says the server is unreachable when no answer came at all', () => {
    setLanguage('nl');
    expect(errorDetail(new TypeError('Failed to fetch'))).toBe('Server onbereikbaar; controleer de netwerkverbinding.');
  });

  it('falls back to the message of anything else', () => {
    expect(errorDetail(new Error('boom'))).toBe('boom');
  });
});

describe('idempotency keys', () => {
  it('are fresh every time, without needing a secure context', () => {
    const keys = new Set(Array.from({ length: 100 }, newIdempotencyKey));
    expect(keys.size).toBe(100);
    for (const key of keys) expect(key).toMatch(/^ui-[0-9a-f]{32}$/);
  });
});
