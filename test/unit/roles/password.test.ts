// Client-side password verifiers and the comparison that keeps an unchanged password from being sent again.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  forgetScramMatches,
  isVerifier,
  makeVerifier,
  md5Verifier,
  passwordMatches,
  saslPrep,
  scramVerifier,
} from '../../../lib/roles/password';

const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');

describe('md5', () => {
  it('is md5 + hex(md5(password || user)), as PostgreSQL stores it', () => {
    // a well-known value: user postgres, password postgres
    assert.equal(md5Verifier('postgres', 'postgres'), 'md53175bce1d3201d16594cebf9d7eb3f9d');
  });
});

describe('SCRAM-SHA-256', () => {
  it('matches the RFC 7677 test vector (the server signature computed from our ServerKey)', () => {
    const verifier = scramVerifier('pencil', salt, 4096);
    const [, keys] = verifier.split('$').slice(1);
    const serverKey = Buffer.from(keys!.split(':')[1]!, 'base64');
    const authMessage =
      'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,' +
      's=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    assert.equal(
      createHmac('sha256', serverKey).update(authMessage).digest('base64'),
      '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    );
    assert.match(verifier, /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  });

  it('an unchanged password matches its stored verifier, whatever salt and iterations it was made with', () => {
    for (const iterations of [4096, 10000]) {
      const stored = scramVerifier('s3cret', Buffer.from('0123456789abcdef'), iterations);
      assert.ok(passwordMatches(stored, 'scram-sha-256', 'u', 's3cret'));
      assert.ok(!passwordMatches(stored, 'scram-sha-256', 'u', 's3cret!'));
    }
  });

  it('SASLprep: NFKC and non-ASCII spaces are applied before hashing; ASCII is unchanged', () => {
    assert.equal(saslPrep('plain-ASCII 123'), 'plain-ASCII 123');
    assert.equal(saslPrep('a\u00A0b\u00ADc\uFB01'), 'a bcfi');
    assert.equal(scramVerifier('\uFB01', salt), scramVerifier('fi', salt));
  });
});

describe('passwordMatches and makeVerifier', () => {
  it('md5 compares by recomputing', () => {
    assert.ok(passwordMatches(md5Verifier('u', 'p'), 'md5', 'u', 'p'));
    assert.ok(!passwordMatches(md5Verifier('u', 'p'), 'md5', 'other', 'p'));
    assert.ok(!passwordMatches(null, 'md5', 'u', 'p'));
  });

  it('strict (the manifest asks for an encryption): a verifier in the other encryption counts as different', () => {
    assert.ok(!passwordMatches(md5Verifier('u', 'p'), 'scram-sha-256', 'u', 'p'));
    assert.ok(!passwordMatches(scramVerifier('p', salt), 'md5', 'u', 'p'));
  });

  it('not strict: a verifier in either encryption that holds the password matches (a takeover sends nothing)', () => {
    assert.ok(passwordMatches(md5Verifier('u', 'p'), 'scram-sha-256', 'u', 'p', false));
    assert.ok(passwordMatches(scramVerifier('p', salt), 'md5', 'u', 'p', false));
    assert.ok(!passwordMatches(md5Verifier('u', 'p'), 'scram-sha-256', 'u', 'other', false));
    assert.ok(!passwordMatches(scramVerifier('p', salt), 'md5', 'u', 'other', false));
  });

  it('a pre-hashed password is sent and compared as it is', () => {
    const hashed = md5Verifier('u', 'p');
    assert.ok(isVerifier(hashed));
    assert.equal(
      makeVerifier('scram-sha-256', 'u', hashed, () => salt),
      hashed,
    );
    assert.ok(passwordMatches(hashed, 'scram-sha-256', 'u', hashed));
  });

  it('makeVerifier asks for a salt only for SCRAM', () => {
    let asked = 0;
    makeVerifier('md5', 'u', 'p', () => {
      asked++;
      return salt;
    });
    assert.equal(asked, 0);
    assert.equal(
      makeVerifier('scram-sha-256', 'u', 'p', () => {
        asked++;
        return salt;
      }),
      scramVerifier('p', salt),
    );
    assert.equal(asked, 1);
  });

  it('remembered SCRAM matches give the same answers, before and after forgetting them', () => {
    const stored = makeVerifier('scram-sha-256', 'u', 'right', () => salt);
    for (const round of [1, 2]) {
      assert.ok(passwordMatches(stored, 'scram-sha-256', 'u', 'right'), `round ${round}`);
      assert.ok(!passwordMatches(stored, 'scram-sha-256', 'u', 'wrong'), `round ${round}`);
      assert.ok(!passwordMatches(scramVerifier('right', Buffer.alloc(16, 1)), 'scram-sha-256', 'u', 'wrong'));
      forgetScramMatches();
    }
  });

  it('a malformed stored verifier never matches', () => {
    assert.ok(!passwordMatches('SCRAM-SHA-256$0:AAAA$x:y', 'scram-sha-256', 'u', 'p'));
    assert.ok(!passwordMatches('garbage', 'scram-sha-256', 'u', 'p'));
  });
});
