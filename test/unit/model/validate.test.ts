// validatePostgresql: every Zalando reference manifest is accepted; each kind of bad manifest gives a problem
// whose path names the field at fault.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeProblems,
  validatePostgresql,
  validationOptions,
  type Problem,
  type ValidationOptions,
} from '../../../lib/model/validate';
import { rawManifest, referenceConfig, REFERENCE_MANIFESTS } from '../reference';

type Raw = ReturnType<typeof rawManifest>;
const off: ValidationOptions = { enableTeamIdClusterNamePrefix: false };
const on: ValidationOptions = { enableTeamIdClusterNamePrefix: true };

function problemsOf(edit: (raw: Raw) => void, options: ValidationOptions = off): Problem[] {
  const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
  edit(raw);
  const result = validatePostgresql(raw, options);
  assert.equal(result.ok, false, 'expected the manifest to be invalid');
  return result.ok ? [] : result.problems;
}

function assertProblem(problems: Problem[], path: string, message?: RegExp | string): void {
  const match = problems.find(
    (p) =>
      p.path === path &&
      (message === undefined || (typeof message === 'string' ? p.message === message : message.test(p.message))),
  );
  assert.ok(
    match,
    `no problem at ${path}${message ? ` matching ${String(message)}` : ''}; got ${describeProblems(problems)}`,
  );
}

describe('reference manifests', () => {
  for (const manifest of REFERENCE_MANIFESTS) {
    for (const options of [off, on]) {
      it(`${manifest} is valid (name prefix rule ${options.enableTeamIdClusterNamePrefix ? 'on' : 'off'})`, () => {
        const result = validatePostgresql(rawManifest(manifest), options);
        assert.ok(result.ok, `problems: ${!result.ok ? describeProblems(result.problems) : ''}`);
        for (const warning of result.warnings) assert.match(warning, /^spec\./);
      });
    }
  }

  it('keeps unknown fields (loose objects) so nothing a user wrote is lost', () => {
    const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    raw.spec.someFutureField = { a: 1 };
    const result = validatePostgresql(raw, off);
    assert.ok(result.ok);
    assert.deepEqual((result.cluster.spec as Record<string, unknown>).someFutureField, { a: 1 });
  });

  it('accepts the legacy plain string status of v1.0.0', () => {
    const raw = rawManifest('v1.0.0/minimal-postgres-manifest.yaml');
    raw.status = 'Running';
    assert.ok(validatePostgresql(raw, off).ok);
  });
});

describe('bad manifests', () => {
  it('missing teamId', () => {
    assertProblem(
      problemsOf((raw) => {
        delete raw.spec.teamId;
      }),
      'spec.teamId',
      'is required',
    );
  });

  it('empty teamId', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.spec.teamId = '';
      }),
      'spec.teamId',
      'team name is empty',
    );
    assertProblem(
      problemsOf((raw) => {
        raw.spec.teamId = '   ';
      }),
      'spec.teamId',
      'team name is empty',
    );
  });

  it('name with upper case letters', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.metadata.name = 'acid-Minimal';
      }),
      'metadata.name',
      /DNS-1035/,
    );
  });

  it('name with an underscore', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.metadata.name = 'acid_minimal';
      }),
      'metadata.name',
      /DNS-1035/,
    );
  });

  it('name starting with a digit or ending with a dash', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.metadata.name = '1acid';
      }),
      'metadata.name',
      /DNS-1035/,
    );
    assertProblem(
      problemsOf((raw) => {
        raw.metadata.name = 'acid-';
      }),
      'metadata.name',
      /DNS-1035/,
    );
  });

  it('name longer than 58 characters', () => {
    const long = `acid-${'a'.repeat(54)}`;
    assert.equal(long.length, 59);
    assertProblem(
      problemsOf((raw) => {
        raw.metadata.name = long;
      }),
      'metadata.name',
      'name cannot be longer than 58 characters',
    );
    const ok = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    ok.metadata.name = long.slice(0, 58);
    assert.ok(validatePostgresql(ok, off).ok, '58 characters are fine');
  });

  it('missing name', () => {
    assertProblem(
      problemsOf((raw) => {
        delete raw.metadata.name;
      }),
      'metadata.name',
      'is required',
    );
  });

  it('negative numberOfInstances', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.spec.numberOfInstances = -1;
      }),
      'spec.numberOfInstances',
    );
  });

  it('non-integer numberOfInstances', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.spec.numberOfInstances = 1.5;
      }),
      'spec.numberOfInstances',
    );
  });

  it('string numberOfInstances', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.spec.numberOfInstances = '2';
      }),
      'spec.numberOfInstances',
    );
  });

  it('number teamId', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.spec.teamId = 42;
      }),
      'spec.teamId',
    );
  });

  it('bad volume size', () => {
    for (const size of ['1GB', 'big', '1 Gi', '-1Gi', '']) {
      assertProblem(
        problemsOf((raw) => {
          raw.spec.volume = { size };
        }),
        'spec.volume.size',
        /quantity/,
      );
    }
  });

  it('missing volume, missing volume size', () => {
    assertProblem(
      problemsOf((raw) => {
        delete raw.spec.volume;
      }),
      'spec.volume',
      'is required',
    );
    assertProblem(
      problemsOf((raw) => {
        raw.spec.volume = {};
      }),
      'spec.volume.size',
      'is required',
    );
  });

  it('missing postgresql.version or a bad one', () => {
    assertProblem(
      problemsOf((raw) => {
        delete raw.spec.postgresql;
      }),
      'spec.postgresql',
      'is required',
    );
    assertProblem(
      problemsOf((raw) => {
        raw.spec.postgresql = { version: 'eighteen' };
      }),
      'spec.postgresql.version',
    );
  });

  it('bad resource quantities', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.spec.resources = { requests: { cpu: 'lots' } };
      }),
      'spec.resources.requests.cpu',
    );
    assertProblem(
      problemsOf((raw) => {
        raw.spec.resources = { limits: { memory: '1gb' } };
      }),
      'spec.resources.limits.memory',
    );
  });

  it('unknown user flag', () => {
    const problems = problemsOf((raw) => {
      raw.spec.users = { zalando: ['superuser', 'superman'] };
    });
    assert.ok(
      problems.some((p) => p.path.startsWith('spec.users.zalando')),
      describeProblems(problems),
    );
  });

  it('conflicting user flags', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.spec.users = { zalando: ['login', 'nologin'] };
      }),
      'spec.users.zalando',
      'invalid flags for user "zalando": conflicting user flags: "LOGIN" and "NOLOGIN"',
    );
    assertProblem(
      problemsOf((raw) => {
        raw.spec.users = { zalando: ['NOSUPERUSER', 'superuser'] };
      }),
      'spec.users.zalando',
      'invalid flags for user "zalando": conflicting user flags: "SUPERUSER" and "NOSUPERUSER"',
    );
  });

  it('bad user names', () => {
    for (const name of ['Zalando', 'foo bar', '-foo', 'foo-', 'foo..bar', 'föö']) {
      assertProblem(
        problemsOf((raw) => {
          raw.spec.users = { [name]: [] };
        }),
        `spec.users.${name}`,
        `invalid username: ${JSON.stringify(name)}`,
      );
    }
    const ok = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    ok.spec.users = { foo_user: [], 'app-1': [], 'ns.user': [], '1abc': [] };
    assert.ok(validatePostgresql(ok, off).ok);
  });

  it('bad CIDR in allowedSourceRanges', () => {
    for (const cidr of ['10.0.0.0', '10.0.0.0/33', '256.0.0.0/8', 'everywhere']) {
      const problems = problemsOf((raw) => {
        raw.spec.allowedSourceRanges = ['127.0.0.1/32', cidr];
      });
      assertProblem(problems, 'spec.allowedSourceRanges.1', /CIDR/);
    }
    const ok = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    ok.spec.allowedSourceRanges = ['0.0.0.0/0', '10.1.2.3/32', '2001:db8::/32', '::1/128'];
    assert.ok(validatePostgresql(ok, off).ok);
  });

  it('bad clone timestamp', () => {
    for (const timestamp of ['2017-12-19T12:40:33', '2017-12-19 12:40:33+01:00', 'yesterday', '2017-13-19T12:40:33Z']) {
      assertProblem(
        problemsOf((raw) => {
          raw.spec.clone = { cluster: 'acid-batman', timestamp };
        }),
        'spec.clone.timestamp',
        /RFC 3339/,
      );
    }
    const ok = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    ok.spec.clone = {
      cluster: 'acid-batman',
      uid: 'efd12e58-5786-11e8-b5a7-06148230260c',
      timestamp: '2017-12-19T12:40:33+01:00',
    };
    assert.ok(validatePostgresql(ok, off).ok);
  });

  it('bad clone cluster name when cloning by basebackup', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.spec.clone = { cluster: 'Acid_Batman' };
      }),
      'spec.clone.cluster',
      /DNS-1035/,
    );
    assertProblem(
      problemsOf((raw) => {
        raw.spec.clone = { cluster: `a${'b'.repeat(63)}` };
      }),
      'spec.clone.cluster',
      'clone cluster name must be no longer than 63 characters',
    );
  });

  it('team prefix rule with enableTeamIdClusterNamePrefix', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.metadata.name = 'other-minimal-cluster';
      }, on),
      'metadata.name',
      "name must match {TEAM}-{NAME} format. Got cluster name 'other-minimal-cluster', team name 'acid'",
    );
    const off1 = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    off1.metadata.name = 'other-minimal-cluster';
    assert.ok(validatePostgresql(off1, off).ok, 'the rule is off by default');
    const caseInsensitive = rawManifest('v1.0.0/minimal-postgres-manifest.yaml');
    assert.equal(caseInsensitive.spec.teamId, 'ACID');
    assert.ok(validatePostgresql(caseInsensitive, on).ok, 'the prefix compares case-insensitively');
  });

  it('bad maintenance window and logical backup schedule', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.spec.maintenanceWindows = ['25:00-26:00'];
      }),
      'spec.maintenanceWindows.0',
    );
    // Within the schema's pattern, but not a window: it ends before it starts, or on another day.
    assertProblem(
      problemsOf((raw) => {
        raw.spec.maintenanceWindows = ['01:00-02:00', '22:00-02:00'];
      }),
      'spec.maintenanceWindows.1',
      '"22:00-02:00": the window ends before it starts',
    );
    assertProblem(
      problemsOf((raw) => {
        raw.spec.maintenanceWindows = ['Sat:22:00-Sun:02:00'];
      }),
      'spec.maintenanceWindows.0',
      '"Sat:22:00-Sun:02:00": a window ends on the day it starts (Sat, not Sun)',
    );
    assertProblem(
      problemsOf((raw) => {
        raw.spec.logicalBackupSchedule = 'every night';
      }),
      'spec.logicalBackupSchedule',
    );
  });

  it('wrong apiVersion or kind', () => {
    assertProblem(
      problemsOf((raw) => {
        raw.apiVersion = 'acid.zalan.do/v2';
      }),
      'apiVersion',
    );
    assertProblem(
      problemsOf((raw) => {
        raw.kind = 'Postgresql';
      }),
      'kind',
    );
  });

  it('reports every problem at once', () => {
    const problems = problemsOf((raw) => {
      raw.metadata.name = 'Bad_Name';
      raw.spec.teamId = '';
      raw.spec.users = { 'Bad User': [] };
    });
    assertProblem(problems, 'metadata.name');
    assertProblem(problems, 'spec.teamId');
    assertProblem(problems, 'spec.users.Bad User');
  });

  it('never throws on garbage', () => {
    for (const raw of [null, undefined, 42, 'postgresql', [], {}]) {
      const result = validatePostgresql(raw, off);
      assert.equal(result.ok, false);
    }
  });

  it('describeProblems joins "path: message"', () => {
    assert.equal(
      describeProblems([
        { path: 'a', message: 'x' },
        { path: 'b.c', message: 'y' },
      ]),
      'a: x; b.c: y',
    );
  });
});

describe('warnings', () => {
  const warningsOf = (edit: (raw: Raw) => void): string[] => {
    const raw = rawManifest('v2.0.1/standby-manifest.yaml');
    edit(raw);
    const result = validatePostgresql(raw, off);
    assert.ok(result.ok, !result.ok ? describeProblems(result.problems) : '');
    return result.warnings;
  };

  it('none for a manifest using only implemented fields', () => {
    assert.deepEqual(
      warningsOf(() => {}),
      [],
    );
  });

  it('the connection pooler is acted on: no warning either way', () => {
    for (const on of [true, false]) {
      assert.deepEqual(
        warningsOf((raw) => {
          raw.spec.enableConnectionPooler = on;
          raw.spec.connectionPooler = { mode: 'session' };
        }),
        [],
      );
    }
  });

  it('tls is acted on: no warning, except for a CA Secret without a CA file', () => {
    assert.deepEqual(
      warningsOf((raw) => {
        raw.spec.tls = { secretName: '', certificateFile: 'tls.crt' };
      }),
      [],
    );
    assert.deepEqual(
      warningsOf((raw) => {
        raw.spec.tls = { secretName: 'pg-tls', caFile: 'ca.crt', caSecretName: 'pg-ca' };
      }),
      [],
    );
    assert.deepEqual(
      warningsOf((raw) => {
        raw.spec.tls = { secretName: 'pg-tls', caSecretName: 'pg-ca' };
      }),
      ['spec.tls.caSecretName: not mounted: tls.caFile names no file in it'],
    );
  });

  it('deprecated load balancer fields warn', () => {
    assert.deepEqual(
      warningsOf((raw) => {
        raw.spec.useLoadBalancer = true;
      }),
      [
        'spec.useLoadBalancer and spec.replicaLoadBalancer are deprecated: use enableMasterLoadBalancer and enableReplicaLoadBalancer',
      ],
    );
  });

  it('the reference complete manifest asks for nothing that is not acted on (preparedDatabases is)', () => {
    const result = validatePostgresql(rawManifest('v2.0.1/complete-postgres-manifest.yaml'), off);
    assert.ok(result.ok);
    assert.deepEqual(result.warnings, []);
  });
});

describe('validationOptions', () => {
  it('takes the system role names from the config: a database owned by the configured superuser is not warned about', () => {
    const config = { ...referenceConfig('v2.0.1'), super_username: 'dba', replication_username: 'repl' };
    const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    raw.spec.databases = { owned_by_dba: 'dba', owned_by_postgres: 'postgres' };
    const result = validatePostgresql(raw, validationOptions(config));
    assert.ok(result.ok);
    const owners = result.warnings.filter((w) => /is not in spec\.users/.test(w));
    assert.equal(owners.length, 1, owners.join('\n'));
    assert.match(owners[0]!, /"postgres"/, 'postgres is no system role under this config');
  });
});

describe('enable_init_containers', () => {
  const withInit = (field: 'initContainers' | 'init_containers') => {
    const raw = rawManifest('v2.0.1/minimal-postgres-manifest.yaml');
    (raw.spec as Record<string, unknown>)[field] = [{ name: 'prepare', image: 'busybox:1' }];
    return raw;
  };
  const config = { ...referenceConfig('v2.0.1'), enable_init_containers: false };

  it('false refuses initContainers, naming the field, as Zalando v1.15.1', () => {
    const result = validatePostgresql(withInit('initContainers'), validationOptions(config));
    assert.ok(!result.ok);
    assertProblem(result.problems, 'spec.initContainers', /disabled in configuration/);
    assert.ok(validatePostgresql(withInit('initContainers'), validationOptions(referenceConfig('v2.0.1'))).ok);
  });

  it('false warns about the deprecated init_containers, which Zalando still uses', () => {
    const result = validatePostgresql(withInit('init_containers'), validationOptions(config));
    assert.ok(result.ok);
    assert.ok(
      result.warnings.some((w) => w.startsWith('spec.init_containers: used although enable_init_containers is false')),
      result.warnings.join('\n'),
    );
  });
});
