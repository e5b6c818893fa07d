/**
 * How people write numbers in prose, read back into one spelling: thousands separators, decimal
 * commas, currency signs and units around a number. Used on answers taken from free text (plain
 * words, not LaTeX), where `1,000.99€`, `1000,99` and `2,74 $` mean numbers, not lists.
 *
 * The comma rule: a comma followed by groups of exactly three digits separates thousands
 * (`7,425,000`, `1,000.99`); otherwise, in a lone number, it is a decimal comma (`1000,99`, `2,74`);
 * in a tuple or a list (brackets, spaces after commas, or several commas that are not thousands
 * groups) it separates items and the text is left alone.
 */

/** A lone number in prose, with its separators: optional sign, digits, commas, dots, spaces between groups. */
const LONE_NUMBER = /^[+-]?(?:\d[\d,.\u00a0\u202f' ]*\d|\d|\.\d+)$/;

/**
 * The number a lone prose number stands for, as a plain decimal (`-1234.5`), or null when the text
 * is not one number (a list such as `1,2,3`, or not a number at all).
 */
export function readProseNumber(text: string): string | null {
  const trimmed = text.trim();
  if (!LONE_NUMBER.test(trimmed)) return null;
  const sign = /^[+-]/.test(trimmed) ? (trimmed[0] === '-' ? '-' : '') : '';
  const body = trimmed.replace(/^[+-]/, '');
  let plain: string | null = null;
  if (/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(body)) plain = body;
  // Thousands with commas (the first group cannot be 0: `0,111` is a decimal comma).
  else if (/^[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$/.test(body)) plain = body.replace(/,/g, '');
  // Thousands with spaces, narrow spaces or apostrophes (`1 000`, `1'000`).
  else if (/^[1-9]\d{0,2}(?:[\u00a0\u202f' ]\d{3})+(?:[.,]\d+)?$/.test(body)) plain = body.replace(/[\u00a0\u202f' ]/g, '').replace(',', '.');
  // Thousands with dots and a decimal comma (`1.000.000,5`).
  else if (/^[1-9]\d{0,2}(?:\.\d{3})+,\d+$/.test(body)) plain = body.replace(/\./g, '').replace(',', '.');
  // One comma that does not start a group of three: a decimal comma (`1000,99`, `2,74`, `0,111`).
  else if (/^\d+,\d+$/.test(body)) plain = body.replace(',', '.');
  if (plain === null) return null;
  return `${sign}${plain}`;
}

/** Currency written around a number. The sign is kept as the answer's unit. */
const CURRENCY = /^(?:\\\$|\$|€|£|¥|₹|₩|USD|EUR|GBP|JPY|dollars?|euros?|pounds?|yen|cents?)$/i;

/** Unit words and symbols a number may carry in prose (SI and everyday units, with ², ³ or ^n). */
const UNIT =
  /^(?:(?:k|c|m|μ|u|n)?m|km\/h|m\/s|mph|kph|(?:k|m)?g|mg|kg|t|l|ml|cl|s|ms|sec|min|h|hr|hrs|days?|weeks?|months?|years?|hours?|minutes?|seconds?|(?:centi|milli|kilo)?(?:meters?|metres?|grams?|liters?|litres?)|inch(?:es)?|in|ft|feet|foot|yards?|miles?|cm|mm|nm|lbs?|oz|ounces?|°C|°F|K|Pa|kPa|N|J|kJ|W|kW|V|A|Hz|units?|sq\s*units?|square\s+units?|cubic\s+units?)(?:\^\{?\d\}?|²|³)?$/;

const PERCENT = /^(?:\\%|%|percent|per\s?cent|pct)$/i;

export interface DecoratedNumber {
  /** The number alone, in plain decimal form. */
  number: string;
  /** The unit or currency written with it, normalised (`m^2`, `€`), when there was one. */
  unit?: string;
  /** The number was written as a percentage (`28%`, `28 percent`). */
  percent: boolean;
}

function canonicalUnit(unit: string): string {
  return unit
    .replace(/²/g, '^2')
    .replace(/³/g, '^3')
    .replace(/\^\{(\d)\}/g, '^$1')
    .replace(/^\\\$$|^dollars?$/i, '$')
    .replace(/^euros?$/i, '€')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

/**
 * A prose answer that is one number with currency, a unit or a percent sign around it
 * (`$1,000.99`, `1,000.99€`, `2,74 $`, `1,000.99m²`, `28 percent`), split into its parts; null
 * when the text is anything else.
 */
export function readDecoratedNumber(text: string): DecoratedNumber | null {
  const trimmed = text.trim().replace(/[.,;:!]+$/, '');
  const match = /^(\\\$|\$|€|£|¥|₹|₩|USD|EUR|GBP)?\s*([+-]?[\d.,\u00a0\u202f' ]*\d)\s*(.*)$/.exec(trimmed);
  if (!match) return null;
  const number = readProseNumber(match[2] ?? '');
  if (number === null) return null;
  const prefix = match[1];
  const suffix = (match[3] ?? '').trim();
  const result: DecoratedNumber = { number, percent: false };
  if (prefix !== undefined) result.unit = canonicalUnit(prefix);
  if (suffix === '') return result;
  if (PERCENT.test(suffix)) return prefix === undefined ? { ...result, percent: true } : null;
  if (prefix !== undefined) return null;
  if (CURRENCY.test(suffix) || UNIT.test(suffix)) return { ...result, unit: canonicalUnit(suffix) };
  return null;
}
