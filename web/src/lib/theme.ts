/**
 * Light, dark, or whatever the system prefers. The choice is kept in localStorage and applied as
 * `<html data-theme>` (app.html applies it before the first paint); "system" removes the attribute
 * so that `prefers-color-scheme` decides (app.css).
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

export const THEME_KEY = 'agentrunbook.theme';
export const THEME_ORDER: readonly ThemeChoice[] = ['system', 'light', 'dark'];

export function readTheme(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): ThemeChoice {
  try {
    const value = storage?.getItem(THEME_KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system'; // storage blocked (private mode, policies): the system decides
  }
}

export function applyTheme(choice: ThemeChoice, root: HTMLElement = document.documentElement, storage: Pick<Storage, 'setItem' | 'removeItem'> | undefined = globalThis.localStorage): void {
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
  try {
    if (choice === 'system') storage?.removeItem(THEME_KEY);
    else storage?.setItem(THEME_KEY, choice);
  } catch {
    // not persisted; still applied for this page
  }
}

/** The next choice of the header's toggle: system → light → dark → system. */
export function nextTheme(choice: ThemeChoice): ThemeChoice {
  return THEME_ORDER[(THEME_ORDER.indexOf(choice) + 1) % THEME_ORDER.length]!;
}
