import test from 'ava';
import { signCertificate, verifyCertificate } from '../source/security/certificate.js';
import { generateIdentity } from '../source/security/keys.js';
import { systemRandom } from '../source/runtime/random.js';

const tracker = generateIdentity(systemRandom);
const member = generateIdentity(systemRandom);
const record = signCertificate(
	{ id: 'bakery-door', role: 'sensor', sensor: 'bakery-door', areas: null, host: '127.0.0.1', port: 4000, signKey: member.signPublic.toString('base64'), agreeKey: member.agreePublic.toString('base64'), incarnation: 2, epoch: 7 },
	tracker.signPrivate,
);

test('a membership certificate verifies against the tracker key that signed it', (t) => {
	t.true(verifyCertificate(record, tracker.signPublic));
	t.false(verifyCertificate(record, generateIdentity(systemRandom).signPublic));
});

test('a certificate with any field changed no longer verifies', (t) => {
	for (const changed of [{ sensor: 'cafe-door' }, { port: 4001 }, { incarnation: 3 }, { epoch: 8 }, { role: 'observer' as const }]) {
		t.false(verifyCertificate({ ...record, ...changed }, tracker.signPublic), JSON.stringify(changed));
	}
});
