/**
 * The forms a phrase of outside text takes on its way into a prompt: as written, JSON-escaped
 * (inside a data block), and with `<`, `>` and `&` written as unicode escapes (how `dataBlock`
 * keeps a block from being closed early). Finding any of them means the text reached the model.
 */
export function markerForms(marker: string): string[] {
  const json = JSON.stringify(marker).slice(1, -1);
  const quoted = json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return [...new Set([marker, json, quoted])];
}

export function containsMarker(text: string, marker: string): boolean {
  return markerForms(marker).some((form) => text.includes(form));
}
