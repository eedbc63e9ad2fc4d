/** Quoting for the guest's bash: every command Berth composes goes through this one rule. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
