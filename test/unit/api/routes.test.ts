import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchRoute, pathSegments } from '../../../lib/api/routes';

describe('operator API routes (Zalando v1.15.1 paths, and v1.0.0-v1.8 cluster paths)', () => {
  test('fleet paths, with or without the trailing slash and the combined host prefix', () => {
    for (const url of ['/clusters', '/clusters/', '/operator-api/clusters/', '/clusters/?watch=1'])
      assert.deepEqual(matchRoute('GET', url), { kind: 'clusters' }, url);
    assert.deepEqual(matchRoute('GET', '/databases/'), { kind: 'databases' });
    assert.deepEqual(matchRoute('GET', '/status/'), { kind: 'status' });
    assert.deepEqual(matchRoute('GET', '/config/'), { kind: 'config' });
    assert.deepEqual(matchRoute('GET', '/metrics'), { kind: 'metrics' });
    assert.deepEqual(matchRoute('POST', '/plan'), { kind: 'plan' });
  });

  test('team, cluster and logs paths in both generations', () => {
    assert.deepEqual(matchRoute('GET', '/clusters/acid/'), { kind: 'team', team: 'acid' });
    assert.deepEqual(matchRoute('GET', '/clusters/default/acid-minimal/'), {
      kind: 'cluster',
      namespace: 'default',
      cluster: 'acid-minimal',
    });
    assert.deepEqual(matchRoute('GET', '/clusters/default/acid-minimal/logs/'), {
      kind: 'logs',
      namespace: 'default',
      cluster: 'acid-minimal',
    });
    assert.deepEqual(matchRoute('GET', '/clusters/ACID/default/acid-minimal'), {
      kind: 'cluster',
      team: 'ACID',
      namespace: 'default',
      cluster: 'acid-minimal',
    });
    assert.deepEqual(matchRoute('GET', '/clusters/acid/default/acid-minimal/logs'), {
      kind: 'logs',
      team: 'acid',
      namespace: 'default',
      cluster: 'acid-minimal',
    });
  });

  test("Zalando's worker paths", () => {
    assert.deepEqual(matchRoute('GET', '/workers/all/status'), { kind: 'workers', worker: 'all', what: 'status' });
    assert.deepEqual(matchRoute('GET', '/workers/all/queue/'), { kind: 'workers', worker: 'all', what: 'queue' });
    assert.deepEqual(matchRoute('GET', '/workers/0/logs'), { kind: 'workers', worker: 0, what: 'logs' });
  });

  test('unknown paths are 404 "page not found", other methods 405', () => {
    assert.deepEqual(matchRoute('GET', '/debug/pprof/'), { kind: 'miss', status: 404, error: 'page not found' });
    assert.deepEqual(matchRoute('GET', '/workers/all/logs'), { kind: 'miss', status: 404, error: 'page not found' });
    assert.deepEqual(matchRoute('GET', '/'), { kind: 'miss', status: 404, error: 'page not found' });
    assert.equal((matchRoute('GET', '/clusters/Bad_NS/x/') as { kind: string }).kind, 'miss');
    assert.equal((matchRoute('DELETE', '/clusters/') as { status?: number }).status, 405);
    assert.equal((matchRoute('GET', '/plan') as { status?: number }).status, 405);
    assert.equal(matchRoute('HEAD', '/readyz/').kind, 'readyz');
  });

  test('segments are decoded and the prefix only stripped as a whole segment', () => {
    assert.deepEqual(pathSegments('/operator-api/clusters/a%2Db/'), ['clusters', 'a-b']);
    assert.deepEqual(pathSegments('/operator-apix/clusters'), ['operator-apix', 'clusters']);
  });
});
