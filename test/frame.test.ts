import test from 'ava';
import { encodeMember, encodeClear, openFrame, parseFrame, MAX_DATAGRAM } from '../source/protocol/frame.js';
import { randomKey } from '../source/security/keys.js';
import { systemRandom } from '../source/runtime/random.js';

const header = { epoch: 7, incarnation: 2, seq: 41, sender: 'north-entrance' };

test('a member frame round-trips and carries its header', (t) => {
	const key = randomKey(systemRandom);
	const parsed = parseFrame(encodeMember(key, header, Buffer.from('{"type":"leave"}')));
	t.true(parsed.ok);
	if (!parsed.ok || parsed.value.kind !== 'member') return;
	t.like(parsed.value, header);
	const body = openFrame(key, parsed.value);
	t.deepEqual(body.ok ? body.value.toString() : null, '{"type":"leave"}');
});

test('a frame opened with another key fails authentication', (t) => {
	const parsed = parseFrame(encodeMember(randomKey(systemRandom), header, Buffer.from('{}')));
	if (!parsed.ok || parsed.value.kind !== 'member') return t.fail();
	t.deepEqual(openFrame(randomKey(systemRandom), parsed.value), { ok: false, reason: 'auth-failed' });
});

test('changing any header byte makes authentication fail', (t) => {
	const key = randomKey(systemRandom);
	const bytes = encodeMember(key, header, Buffer.from('{}'));
	for (let index = 4; index < 21 + header.sender.length; index++) {
		const garbled = Buffer.from(bytes);
		garbled[index]! ^= 0x01;
		const parsed = parseFrame(garbled);
		const opened = parsed.ok && parsed.value.kind === 'member' ? openFrame(key, parsed.value) : parsed;
		t.false(opened.ok, `byte ${index}`);
	}
});

const dropped = test.macro((t, bytes: Buffer, reason: string) => {
	t.deepEqual(parseFrame(bytes), { ok: false, reason });
});

test('drops an empty datagram', dropped, Buffer.alloc(0), 'too-short');
test('drops a datagram with the wrong magic', dropped, Buffer.from([0x00, 0x00, 1, 1]), 'bad-magic');
test('drops a datagram of another wire version', dropped, Buffer.from([0x46, 0x46, 9, 1]), 'bad-version');
test('drops an unknown frame kind', dropped, Buffer.from([0x46, 0x46, 1, 200]), 'unknown-kind');
test('drops a truncated member frame', dropped, encodeMember(randomKey(systemRandom), header, Buffer.from('{}')).subarray(0, 30), 'truncated');
test('drops a datagram over the size limit', dropped, encodeClear(Buffer.alloc(MAX_DATAGRAM)), 'oversize');

test('parsing never throws on random bytes', (t) => {
	for (let n = 0; n < 2000; n++) {
		const bytes = Buffer.from(Array.from({ length: n % 300 }, () => Math.floor(Math.random() * 256)));
		if (n % 3 === 0 && bytes.length > 4) {
			// Often a valid prefix, so the parser goes past the first checks.
			bytes.writeUInt16BE(0x4646, 0);
			bytes.writeUInt8(1, 2);
			bytes.writeUInt8(1 + (n % 9) % 3, 3);
		}
		t.notThrows(() => parseFrame(bytes));
	}
});
