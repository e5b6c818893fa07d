/**
 * String-level normalisation of a LaTeX answer before parsing: the layer that removes what a
 * reader ignores (delimiters, spacing, \left, units, trailing dots) and records what changes the
 * value's reading (percent, degrees) as flags instead of silently dropping it.
 */

export interface Normalized {
  text: string;
  percent: boolean;
  degrees: boolean;
  /** The base of a number written as `52_8`, when there was one. */
  base?: string;
}

/** Unit words that may follow a number and carry no value (Minerva, OlympiadBench `unit`). */
const UNIT_WORDS = new Set(
  (
    'cm m mm km nm um μm kg g mg s ms sec secs second seconds min mins minute minutes h hr hrs hour hours day days ' +
    'year years yr yrs week weeks month months meter meters metre metres centimeter centimeters kilometer kilometers ' +
    'inch inches in ft foot feet yard yards mile miles mph kph unit units sq square cubic degree degrees deg rad ' +
    'radian radians dollar dollars cent cents euro euros point points people person persons student students ' +
    'kcal cal j kj ev kev mev gev w kw mw hz khz mhz ghz k pa kpa atm n l ml liter liters litre litres mol ' +
    'au ly pc kpc mpc amu erg ergs gram grams kilogram kilograms ounce ounces lb lbs pound pounds ton tons times ' +
    'way ways box boxes ball balls coin coins page pages term terms digit digits number numbers integer integers ' +
    'angstrom angstroms a v ohm ohms percent mm^2 cm^2 m^2 km^2 cm^3 m^3 s^-1 m/s km/s cm/s'
  ).split(' '),
);

const TEXT_COMMANDS = /\\(?:text|textrm|textbf|textit|textnormal|mbox|mathrm|mathbf|mathit|mathsf|mathtt|rm|bf|operatorname\*?)\s*\{([^{}]*)\}/g;

/** Replaces `\frac12` and `\sqrt2` style arguments by braced ones, so the parser sees one shape. */
function braceShortArguments(text: string): string {
  return text
    .replace(/\\frac\s*(\d)\s*(\d)/g, '\\frac{$1}{$2}')
    .replace(/\\frac\s*(\d)\s*\{/g, '\\frac{$1}{')
    .replace(/\\frac\s*\{([^{}]*)\}\s*(\d)/g, '\\frac{$1}{$2}')
    .replace(/\\frac\s*([a-zA-Z])\s*([a-zA-Z\d])/g, '\\frac{$1}{$2}');
}

export function normalizeAnswer(raw: string): Normalized {
  let text = raw;
  let percent = false;
  let degrees = false;
  let base: string | undefined;
  // Row breaks of matrices first, so `\\ ` is not read as a `\ ` space.
  text = text.replace(/\\\\/g, ' \\cr ');
  // Delimiters and inline math markers; OlympiadBench keeps `$,$` between answers.
  // A label in words before the value (`\text{mean} = 5`) names the answer; the value is the answer.
  text = text.replace(/^\s*\\text\s*\{[A-Za-z\s]*\}\s*=(?!=)/, '');
  text = text.replace(/\\\$/g, '').replace(/\$/g, ' ').replace(/[€£¥₹]/g, ' ');
  text = text.replace(/\\[()[\]]/g, ' ');
  text = text
    .replace(/[−–—]/g, '-')
    .replace(/×/g, '\\times ')
    .replace(/[·⋅]/g, '\\cdot ')
    .replace(/÷/g, '\\div ')
    .replace(/π/g, '\\pi ')
    .replace(/∞/g, '\\infty ')
    .replace(/√/g, '\\sqrt')
    .replace(/≤/g, '\\le ')
    .replace(/≥/g, '\\ge ')
    .replace(/≠/g, '\\ne ')
    .replace(/∪/g, '\\cup ')
    .replace(/²/g, '^2')
    .replace(/³/g, '^3');
  text = text.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)(?![a-zA-Z])\s*(\\\{|\\\}|\\\||\\langle|\\rangle|\\lfloor|\\rfloor|\\lceil|\\rceil|\.|[()[\]|])?/g, (_m, delim: string | undefined) =>
    delim === '.' || delim === undefined ? ' ' : delim,
  );
  text = text.replace(/\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits|boxed(?=\s*\{)|hbox|vphantom\{[^}]*\}|phantom\{[^}]*\})/g, ' ');
  text = text.replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac');
  // Degree and prime marks. A prime after a number is an arcsecond/arcminute unit in Minerva.
  text = text.replace(/\^\s*\{?\s*\\circ\s*\}?|\^\s*\\degree|°|\\degree|\\circ/g, () => {
    degrees = true;
    return ' ';
  });
  text = text.replace(/\^\s*\{\s*(?:\\prime\s*)+\}|\^\s*\\prime|(\d)\s*''?(?![\w])/g, (_m, digit: string | undefined) => (digit ?? ''));
  text = text.replace(/\\%|%|\\percent/g, () => {
    percent = true;
    return ' ';
  });
  // Thousands separators written with LaTeX spacing or braces: `10,\!080`, `1{,}000`, `1\,000`.
  text = text.replace(/\\!/g, '').replace(/(\d),\s+(?=\d{3}(?!\d))/g, (m, digit: string) => (/,\s+/.test(m) && raw.includes('\\!') ? `${digit},` : m));
  // A base written as a subscript (`52_8`, `4210_{5}`): the digits are the answer; the base is kept
  // aside so that two answers in different bases still differ.
  text = text.replace(/(\d)_\{?(\d+)\}?/g, (_m, digit: string, subscript: string) => {
    base = subscript;
    return digit;
  });
  text = text.replace(/(\d)\{,\}(?=\d{3})/g, '$1').replace(/(\d)\\[,;: ](?=\d{3}(?!\d))/g, '$1');
  text = text.replace(/\\(?:,|;|:|!| |quad|qquad|enspace|thinspace|medspace|thickspace)/g, ' ').replace(/~/g, ' ');
  text = text.replace(/\\mathbb\s*\{?\s*([A-Z])\s*\}?/g, '\\mathbb$1');
  text = rewriteText(text, () => {
    percent = true;
  }, () => {
    degrees = true;
  });
  text = braceShortArguments(text);
  text = text.replace(/\bnp\.|\bmath\.|\bsympy\./g, '');
  text = text.replace(/\s+/g, ' ').trim();
  // Spaces next to braces and scripts never matter; a space after a command name still ends it.
  text = text.replace(/\s*([{}^_])\s*/g, '$1').replace(/(\\[a-zA-Z]+)([{}^_])/g, '$1$2');
  // Trailing punctuation and a leading "answer is" style remainder.
  text = text.replace(/^(?:final\s+answer|answer)\s*[:：]\s*/i, '');
  for (;;) {
    const trimmed = text.replace(/[\s.。;,:]+$/, '').replace(/\\\s*$/, '');
    if (trimmed === text) break;
    text = trimmed;
  }
  // Pure integers with thousands separators: `1,000` or `7,425,000(.5)`.
  if (/^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(text)) text = text.replace(/,/g, '');
  if (/^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$/.test(text)) text = text.replace(/ /g, '');
  text = stripUnitWords(text);
  const result: Normalized = { text, percent, degrees };
  if (base !== undefined) result.base = base;
  return result;
}

/**
 * `\text{...}`: connectives become commas, units after a number go, anything else is unwrapped.
 * A whole answer that is only text keeps its words (multiple-choice `\text{(B)}`).
 */
function rewriteText(text: string, onPercent: () => void, onDegrees: () => void): string {
  let previous = '';
  let current = text;
  // Nested \text{\textbf{..}} needs a few passes; four is more than any answer uses.
  for (let pass = 0; pass < 4 && previous !== current; pass += 1) {
    previous = current;
    const hasMathOutside = /[\d\\]/.test(current.replace(TEXT_COMMANDS, ''));
    current = current.replace(TEXT_COMMANDS, (_m, content: string, offset: number, whole: string) => {
      const inner = content.trim();
      // Text in a subscript names the symbol (`\lambda_{\text{red}}`).
      if (/_\s*\{?\s*$/.test(whole.slice(0, offset))) return inner;
      const lower = inner.toLowerCase();
      if (lower === 'and' || lower === 'or' || lower === ',' || lower === 'and/or') return ', ';
      if (lower === 'percent' || lower === '%') {
        onPercent();
        return ' ';
      }
      if (lower === 'degrees' || lower === 'degree' || lower === '°') {
        onDegrees();
        return ' ';
      }
      if (hasMathOutside && /^[a-zA-Zμ°/\s.^\-\d{}]*$/.test(inner) && /[a-zA-Z]{1,}/.test(inner) && !/^[A-Za-z]$/.test(inner)) {
        return ' \\unit ';
      }
      return ` ${inner} `;
    });
  }
  // Exponents that belonged to a removed unit, e.g. `\text{ m}^{-2}`.
  return current.replace(/\\unit\s*(?:\^\s*(?:\{[^{}]*\}|-?\d))?/g, ' ');
}

/** `15 cm`, `3 dollars`, `5 square units`: drop unit words that follow a leading number. */
function stripUnitWords(text: string): string {
  const match = /^(-?[\d.,]+(?:\s*\\times\s*10\^\{?-?\d+\}?)?|\\frac\{[^{}]*\}\{[^{}]*\})\s+([a-zA-Zμ][\w\s^\-/{}.μ]*)$/.exec(text);
  if (!match) return text;
  const words = (match[2] ?? '').toLowerCase().split(/[\s/]+/).filter((w) => w.length > 0);
  // A lone letter after a number is a variable (`2 k`), not a unit; letters count only after a unit word.
  if ((words[0] ?? '').replace(/\^.*$/, '').length < 2) return text;
  const isUnit = words.every((w) => UNIT_WORDS.has(w.replace(/[{}]/g, '').replace(/\^.*$/, '')) || /^\^/.test(w));
  return isUnit ? (match[1] ?? text) : text;
}
