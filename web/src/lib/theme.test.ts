import { describe, expect, it } from 'vitest';
import { THEME_KEY, applyTheme, nextTheme, readTheme } from './theme';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
    data,
  };
}

describe('theme', () => {
  it('reads a stored choice, and "system" for anything else or unreadable storage', () => {
    expect(readTheme(memoryStorage({ [THEME_KEY]: 'dark' }))).toBe('dark');
    expect(readTheme(memoryStorage({ [THEME_KEY]: 'purple' }))).toBe('system');
    expect(readTheme(memoryStorage())).toBe('system');
    expect(readTheme({ getItem: () => { throw new Error('blocked'); } })).toBe('system');
  });

  it('applies a choice to <html data-theme> and remembers it; system removes both', () => {
    const root = { dataset: {} as Record<string, string> } as unknown as HTMLElement;
    const storage = memoryStorage();
    applyTheme('dark', root, storage);
    expect(root.dataset.theme).toBe('dark');
    expect(storage.data.get(THEME_KEY)).toBe('dark');
    applyTheme('system', root, storage);
    expect(root.dataset.theme).toBeUndefined();
    expect(storage.data.has(THEME_KEY)).toBe(false);
  });

  it('cycles system → light → dark → system', () => {
    expect([nextTheme('system'), nextTheme('light'), nextTheme('dark')]).toEqual(['light', 'dark', 'system']);
  });
});
