/**
 * A CEL expression that could not be compiled or evaluated. `expr` is the source text, so a run
 * log or an API error can show which expression failed without the caller repeating it.
 */
export class CelError extends Error {
  constructor(
    readonly detail: string,
    readonly expr: string,
  ) {
    super(`${detail} in \`${expr}\``);
    this.name = 'CelError';
  }
}
