import { describe, expect, it, vi } from 'vitest';
import { loginPath, safeNext } from './errors';

// errors.ts navigates with SvelteKit; only its pure helpers are under test here (vi.mock is hoisted).
vi.mock('$app/navigation', () => ({ goto: vi.fn() }));

describe('safeNext', () => {
  it('follows paths on this origin only', () => {
    expect(safeNext('/runs/r1?x=1#step-drain')).toBe('/runs/r1?x=1#step-drain');
    for (const bad of [null, '', 'https://evil.example', '//evil.example', '/\\evil.example', 'runs']) {
      expect(safeNext(bad)).toBe('/');
    }
  });
});

describe('loginPath', () => {
  it('carries where to come back to', () => {
    expect(loginPath('/runs/r1')).toBe('/login?next=%2Fruns%2Fr1');
    expect(loginPath('/')).toBe('/login');
  });
});
