import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradeResponse } from './grade.js';
import { readDecoratedNumber, readProseNumber } from './number-format.js';

/** Writes a non-negative integer with a comma before every group of three digits. */
function withThousands(n: bigint): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const bigInteger = fc.bigInt({ min: 1000n, max: 10n ** 15n });
const fractionDigits = fc.stringMatching(/^\d{1,6}$/);

test('a comma before groups of exactly three digits separates thousands', () => {
  fc.assert(
    fc.property(bigInteger, fc.option(fractionDigits), fc.boolean(), (n, fraction, negative) => {
      const written = `${negative ? '-' : ''}${withThousands(n)}${fraction === null ? '' : `.${fraction}`}`;
      assert.equal(readProseNumber(written), `${negative ? '-' : ''}${n}${fraction === null ? '' : `.${fraction}`}`);
    }),
  );
});

test('otherwise a single comma in a lone number is a decimal comma', () => {
  const notThree = fc.stringMatching(/^\d{1,2}$|^\d{4,7}$/);
  fc.assert(
    fc.property(fc.nat({ max: 10 ** 9 }), notThree, (whole, fraction) => {
      assert.equal(readProseNumber(`${whole},${fraction}`), `${whole}.${fraction}`);
    }),
  );
  // A leading 0 group cannot open thousands: `0,111` is 0.111.
  assert.equal(readProseNumber('0,111'), '0.111');
  assert.equal(readProseNumber('1,000'), '1000');
});

test('dots as thousands with a decimal comma, and spaces as thousands', () => {
  fc.assert(
    fc.property(bigInteger, fc.stringMatching(/^\d{1,4}$/), (n, fraction) => {
      assert.equal(readProseNumber(`${withThousands(n).replace(/,/g, '.')},${fraction}`), `${n}.${fraction}`);
      assert.equal(readProseNumber(withThousands(n).replace(/,/g, ' ')), n.toString());
    }),
  );
});

test('in a list the commas separate items: not one number', () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 99 }), { minLength: 2, maxLength: 6 }), (items) => {
      assert.equal(readProseNumber(items.join(', ')), null);
      if (items.length > 2) assert.equal(readProseNumber(items.join(',')), null);
    }),
  );
});

test('currency and units around a number are read apart from it; percent is kept as a flag', () => {
  fc.assert(
    fc.property(bigInteger, fc.stringMatching(/^\d{2}$/), fc.constantFrom('€', '$', '£', ' m²', ' km/h', ' kg', ' dollars', ' cm^2'), (n, cents, unit) => {
      const number = `${n}.${cents}`;
      const read = readDecoratedNumber(`${withThousands(n)}.${cents}${unit}`);
      assert.equal(read?.number, number);
      assert.ok(read?.unit !== undefined);
      assert.equal(readDecoratedNumber(`$${withThousands(n)}.${cents}`)?.number, number);
    }),
  );
  assert.deepEqual(readDecoratedNumber('28 percent'), { number: '28', percent: true });
  assert.deepEqual(readDecoratedNumber('2,74 $'), { number: '2.74', unit: '$', percent: false });
  assert.equal(readDecoratedNumber('12 apples and 3 pears'), null);
});

test('graded from free text: the written number equals its value, a changed leading digit does not', () => {
  fc.assert(
    fc.property(bigInteger, fc.stringMatching(/^\d{2}$/), fc.constantFrom('€', ' $', 'm²', ''), (n, cents, unit) => {
      const response = `So it comes to ${withThousands(n)}.${cents}${unit} in the end`;
      const options = { extraction: 'free-text' as const, goldAsText: true };
      assert.equal(gradeResponse(`${n}.${cents}`, response, options).correct, true, response);
      // Decimals compare with a relative tolerance (1e-7), so the changed digit is the leading one.
      const digits = n.toString();
      const changed = `${(Number(digits[0]) % 9) + 1}${digits.slice(1)}`;
      assert.equal(gradeResponse(`${changed}.${cents}`, response, options).correct, false, response);
    }),
    { numRuns: 60 },
  );
});
