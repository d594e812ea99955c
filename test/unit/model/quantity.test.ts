// Kubernetes quantities as numbers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareQuantities, parseQuantity, sameQuantity } from '../../../lib/model/quantity';

describe('parseQuantity', () => {
  it('parses plain numbers, decimals and millis', () => {
    assert.equal(parseQuantity('1'), 1);
    assert.equal(parseQuantity('0.5'), 0.5);
    assert.equal(parseQuantity('500m'), 0.5);
    assert.equal(parseQuantity('.5'), 0.5);
    assert.equal(parseQuantity(' 2 '), 2);
  });

  it('parses binary and decimal suffixes', () => {
    assert.equal(parseQuantity('1Ki'), 1024);
    assert.equal(parseQuantity('100Mi'), 100 * 2 ** 20);
    assert.equal(parseQuantity('1Gi'), 2 ** 30);
    assert.equal(parseQuantity('2Ti'), 2 * 2 ** 40);
    assert.equal(parseQuantity('1k'), 1000);
    assert.equal(parseQuantity('2G'), 2e9);
    assert.equal(parseQuantity('1.5Gi'), 1.5 * 2 ** 30);
  });

  it('parses exponents', () => {
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity('5E2'), 500);
  });

  it('rejects what is not a quantity', () => {
    for (const text of ['', 'abc', '1GB', '1gi', '1 Gi', 'Mi', '1..2'])
      assert.equal(parseQuantity(text), undefined, text);
  });
});

describe('sameQuantity and compareQuantities', () => {
  it('equal amounts in different spellings', () => {
    assert.ok(sameQuantity('0.5', '500m'));
    assert.ok(sameQuantity('1Gi', '1024Mi'));
    assert.ok(sameQuantity('1', '1000m'));
    assert.ok(sameQuantity('1e3', '1k'));
    assert.ok(!sameQuantity('1G', '1Gi'));
    assert.ok(!sameQuantity('1', 'one'));
  });

  it('orders quantities', () => {
    assert.ok(compareQuantities('250m', '1') < 0);
    assert.ok(compareQuantities('500Mi', '250Mi') > 0);
    assert.equal(compareQuantities('1Gi', '1024Mi'), 0);
  });

  it('throws on a non-quantity', () => {
    assert.throws(() => compareQuantities('1', 'lots'), /not a quantity: lots/);
  });
});
