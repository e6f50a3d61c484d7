/**
 * Italian fiscal code (codice fiscale) of a natural person: normalisation,
 * format check and check character (DM 23/12/1976). Omocodia substitutions
 * (digits replaced by LMNPQRSTUV) are accepted.
 */

const ODD_VALUES: Record<string, number> = {
  '0': 1, '1': 0, '2': 5, '3': 7, '4': 9, '5': 13, '6': 15, '7': 17, '8': 19, '9': 21,
  A: 1, B: 0, C: 5, D: 7, E: 9, F: 13, G: 15, H: 17, I: 19, J: 21, K: 2, L: 4, M: 18,
  N: 20, O: 11, P: 3, Q: 6, R: 8, S: 12, T: 14, U: 16, V: 10, W: 22, X: 25, Y: 24, Z: 23,
};

function evenValue(ch: string): number {
  const code = ch.charCodeAt(0);
  return code <= 57 ? code - 48 : code - 65;
}

// Letters or omocodia letters where digits are expected.
const DIGIT = '[0-9LMNPQRSTUV]';
const SHAPE = new RegExp(
  `^[A-Z]{6}${DIGIT}{2}[ABCDEHLMPRST]${DIGIT}{2}[A-Z]${DIGIT}{3}[A-Z]$`,
);

/** Upper-cases and removes spaces, dots and dashes. */
export function normaliseFiscalCode(raw: string): string {
  return raw.replace(/[\s.\-]/g, '').toUpperCase();
}

/** The check character for the first 15 characters of a fiscal code. */
export function fiscalCodeCheckChar(first15: string): string {
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const ch = first15[i] ?? '';
    // Positions are counted from 1: odd positions are the even indexes.
    sum += i % 2 === 0 ? (ODD_VALUES[ch] ?? 0) : evenValue(ch);
  }
  return String.fromCharCode(65 + (sum % 26));
}

/** True when the (normalised) code has the right shape and check character. */
export function isValidFiscalCode(code: string): boolean {
  if (!SHAPE.test(code)) return false;
  return fiscalCodeCheckChar(code.slice(0, 15)) === code[15];
}
