import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  EXPECTED_BOOL,
  EXPECTED_DAYS,
  EXPECTED_DURATION,
  EXPECTED_INT,
  formatDuration,
  formatMap,
  parseBool,
  parseDays,
  parseDuration,
  parseInteger,
  parseList,
  parseMap,
  type ParseResult,
} from '../../../../lib/model/config';

function value<T>(result: ParseResult<T>): T {
  assert.ok(result.ok, `expected success, got ${JSON.stringify(result)}`);
  return result.value;
}

function expected<T>(result: ParseResult<T>): string {
  assert.ok(!result.ok, `expected failure, got ${JSON.stringify(result)}`);
  return result.expected;
}

describe('parseBool', () => {
  it('reads true and false in any letter case', () => {
    for (const text of ['true', 'TRUE', 'True', 'tRuE', ' true ']) assert.equal(value(parseBool(text)), true, text);
    for (const text of ['false', 'FALSE', 'False', '\tfalse\n']) assert.equal(value(parseBool(text)), false, text);
  });

  it('reads the short forms Go accepts', () => {
    assert.equal(value(parseBool('1')), true);
    assert.equal(value(parseBool('t')), true);
    assert.equal(value(parseBool('0')), false);
    assert.equal(value(parseBool('F')), false);
  });

  it('rejects anything else', () => {
    for (const text of ['yes', 'no', 'on', '', 'truee', '2'])
      assert.equal(expected(parseBool(text)), EXPECTED_BOOL, text);
  });
});

describe('parseInteger', () => {
  it('reads signed decimal integers', () => {
    assert.equal(value(parseInteger('8')), 8);
    assert.equal(value(parseInteger('-1')), -1);
    assert.equal(value(parseInteger('+3')), 3);
    assert.equal(value(parseInteger(' 42 ')), 42);
    assert.equal(value(parseInteger('007')), 7);
    assert.ok(Object.is(value(parseInteger('-0')), 0));
  });

  it('rejects non-integers and out-of-range values', () => {
    for (const text of ['abc', '1.5', '1e3', '0x10', '', '-', '8 workers']) {
      assert.equal(expected(parseInteger(text)), EXPECTED_INT, text);
    }
    assert.match(expected(parseInteger('99999999999999999999')), /^an integer between/);
  });
});

describe('parseDays', () => {
  it('reads bare whole numbers', () => {
    assert.equal(value(parseDays('90')), 90);
    assert.equal(value(parseDays('0')), 0);
  });

  it('rejects negatives, units and fractions', () => {
    for (const text of ['-1', '90d', '1.5', 'ninety', '']) assert.equal(expected(parseDays(text)), EXPECTED_DAYS, text);
  });
});

describe('parseList', () => {
  it('splits on commas, trims items and drops empty ones', () => {
    assert.deepEqual(parseList('admin,cron_admin'), ['admin', 'cron_admin']);
    assert.deepEqual(parseList(' admin , cron_admin '), ['admin', 'cron_admin']);
    assert.deepEqual(parseList(',,a,, b ,'), ['a', 'b']);
    assert.deepEqual(parseList('single'), ['single']);
  });

  it('gives an empty list for empty or blank text', () => {
    assert.deepEqual(parseList(''), []);
    assert.deepEqual(parseList('  '), []);
    assert.deepEqual(parseList(' , '), []);
  });
});

describe('parseMap', () => {
  it('reads key:value pairs, trimming both', () => {
    assert.deepEqual(value(parseMap('application:spilo')), { application: 'spilo' });
    assert.deepEqual(value(parseMap('when_deleted:retain,when_scaled:retain')), {
      when_deleted: 'retain',
      when_scaled: 'retain',
    });
    assert.deepEqual(value(parseMap(' a : 1 ,  b:2 ')), { a: '1', b: '2' });
  });

  it('gives an empty map for empty text and skips empty items', () => {
    assert.deepEqual(value(parseMap('')), {});
    assert.deepEqual(value(parseMap(',,log_statement:all\t,')), { log_statement: 'all' });
  });

  it('keeps further colons in the value', () => {
    assert.deepEqual(value(parseMap('cert:arn:aws:acm:eu-central-1:1234:certificate/x')), {
      cert: 'arn:aws:acm:eu-central-1:1234:certificate/x',
    });
    assert.deepEqual(value(parseMap('key:')), { key: '' });
  });

  it('does not split on commas or colons inside quotes, and keeps the quotes', () => {
    assert.deepEqual(value(parseMap("log_statement:all, work_mem:'4GB'")), { log_statement: 'all', work_mem: "'4GB'" });
    assert.deepEqual(value(parseMap(`log_statement:none, search_path:'"$user", public'`)), {
      log_statement: 'none',
      search_path: `'"$user", public'`,
    });
    assert.deepEqual(value(parseMap('a:"x,y",b:z')), { a: '"x,y"', b: 'z' });
    assert.deepEqual(value(parseMap('"k:1":v')), { '"k:1"': 'v' });
    assert.deepEqual(value(parseMap(`q:"it's",r:s`)), { q: `"it's"`, r: 's' });
  });

  it('rejects an unmatched quote and names its position', () => {
    assert.equal(
      expected(parseMap(`search_path:'"$user"`)),
      'a map like "key1:value1,key2:value2" (unmatched \' quote at position 13)',
    );
    assert.match(expected(parseMap('a:"b,c:d')), /unmatched " quote at position 3/);
  });

  it('rejects items without a colon or with an empty key', () => {
    assert.match(expected(parseMap('a:b,c')), /item "c" has no ":"/);
    assert.match(expected(parseMap(':v')), /item ":v" has an empty key/);
  });

  it('lets a later duplicate win and keeps __proto__ as an ordinary key', () => {
    assert.deepEqual(value(parseMap('a:1,a:2')), { a: '2' });
    const parsed = value(parseMap('__proto__:x'));
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.deepEqual(Object.keys(parsed), ['__proto__']);
  });

  it('formats back to the same text', () => {
    assert.equal(formatMap({ a: '1', b: '2' }), 'a:1,b:2');
    assert.equal(formatMap({}), '');
  });
});

describe('parseDuration', () => {
  it('reads single units as milliseconds', () => {
    assert.equal(value(parseDuration('300ms')), 300);
    assert.equal(value(parseDuration('5s')), 5_000);
    assert.equal(value(parseDuration('5m')), 300_000);
    assert.equal(value(parseDuration('1h')), 3_600_000);
    assert.equal(value(parseDuration('1500us')), 1.5);
    assert.equal(value(parseDuration('1500µs')), 1.5);
    assert.equal(value(parseDuration('2000000ns')), 2);
  });

  it('reads compound and fractional durations', () => {
    assert.equal(value(parseDuration('1h30m')), 5_400_000);
    assert.equal(value(parseDuration('1.5h')), 5_400_000);
    assert.equal(value(parseDuration('1m30s')), 90_000);
    assert.equal(value(parseDuration('1.1s')), 1_100);
    assert.equal(value(parseDuration('.5s')), 500);
    assert.equal(value(parseDuration('1.s')), 1_000);
    assert.equal(value(parseDuration('2h45m30.5s')), 9_930_500);
  });

  it('reads zero and signs', () => {
    assert.equal(value(parseDuration('0')), 0);
    assert.equal(value(parseDuration('0s')), 0);
    assert.equal(value(parseDuration('-5s')), -5_000);
    assert.equal(value(parseDuration('+5s')), 5_000);
    assert.equal(value(parseDuration(' 10m ')), 600_000);
  });

  it('rejects numbers without units, unknown units and garbage', () => {
    for (const text of ['', '5', '300', '5 m', 'm', '.s', '5d', '1w', 'five minutes', '1h 30m', '--1s', '5mm']) {
      assert.equal(expected(parseDuration(text)), EXPECTED_DURATION, text);
    }
  });

  it("rejects values beyond Go's range", () => {
    assert.equal(expected(parseDuration('3000000h')), EXPECTED_DURATION);
    assert.equal(value(parseDuration('2000000h')), 2_000_000 * 3_600_000);
  });

  it('formats durations compactly and round-trips them', () => {
    assert.equal(formatDuration(1_800_000), '30m');
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(1_500), '1s500ms');
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(1.5), '1ms500us');
    assert.equal(formatDuration(-5_000), '-5s');
    for (const ms of [0, 1, 300, 4_000, 90_000, 1_200_000, 5_400_000, 86_400_000, 1.25]) {
      assert.equal(value(parseDuration(formatDuration(ms))), ms, String(ms));
    }
    assert.throws(() => formatDuration(Number.NaN), RangeError);
  });
});
