import { KEY_BYTES, NONCE_BYTES, TAG_BYTES, open, seal } from '../security/keys.js';

/**
 * The one place that knows the datagram layout. Every datagram starts with
 * `magic(2) version(1) kind(1)`; then, by kind:
 *
 *   clear      JSON body. Only the first two handshake steps (hello, challenge): they
 *              carry public keys and nothing secret.
 *   handshake  clientEphemeral(32) nonce(12) AES-256-GCM(JSON body) — the login and
 *              the tracker's answer, under a key agreed from X25519 (see handshake.ts).
 *   member     epoch(4) incarnation(4) seq(8) senderLength(1) sender nonce(12)
 *              AES-256-GCM(JSON body) — everything between members, under the pairwise
 *              key of sender and receiver for this epoch. The header is the AAD, so
 *              nothing in it can be changed without the receiver noticing.
 */
export const MAGIC = 0x4646; // "FF"
export const WIRE_VERSION = 1;
/** Keeps every datagram inside one IPv6 minimum-MTU packet: no IP fragmentation. */
export const MAX_DATAGRAM = 1200;
const PREFIX = 4;

/** Frame kinds on the wire. ONLY APPEND: a number once used keeps its meaning. */
export const FrameKind = { clear: 1, handshake: 2, member: 3 } as const;

export interface MemberHeader {
	readonly epoch: number;
	readonly incarnation: number;
	readonly seq: number;
	readonly sender: string;
}

export type Frame =
	| { readonly kind: 'clear'; readonly body: Buffer }
	| { readonly kind: 'handshake'; readonly clientEphemeral: Buffer; readonly nonce: Buffer; readonly sealed: Buffer; readonly aad: Buffer }
	| ({ readonly kind: 'member'; readonly nonce: Buffer; readonly sealed: Buffer; readonly aad: Buffer } & MemberHeader);

/** Why a datagram was dropped. Every one is counted; none is thrown. */
export type DropReason =
	| 'too-short'
	| 'bad-magic'
	| 'bad-version'
	| 'unknown-kind'
	| 'truncated'
	| 'oversize'
	| 'wrong-epoch'
	| 'unknown-sender'
	| 'auth-failed'
	| 'replayed'
	| 'stale-incarnation'
	| 'malformed'
	| 'not-allowed'
	| 'unexpected'
	/** A certificate or a relayed row whose signature does not check out. */
	| 'bad-signature';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: DropReason };

const fail = (reason: DropReason): Parsed<never> => ({ ok: false, reason });

function prefix(kind: number): Buffer {
	const bytes = Buffer.alloc(PREFIX);
	bytes.writeUInt16BE(MAGIC, 0);
	bytes.writeUInt8(WIRE_VERSION, 2);
	bytes.writeUInt8(kind, 3);
	return bytes;
}

export function encodeClear(body: Buffer): Buffer {
	return Buffer.concat([prefix(FrameKind.clear), body]);
}

/** `nonce`: 12 random bytes; login keys are fresh per handshake, so a repeat is as unlikely as a key collision. */
export function encodeHandshake(key: Buffer, clientEphemeral: Buffer, body: Buffer, nonce: Buffer): Buffer {
	const aad = Buffer.concat([prefix(FrameKind.handshake), clientEphemeral]);
	const { sealed } = seal(key, body, aad, nonce);
	return Buffer.concat([aad, nonce, sealed]);
}

export function encodeMember(key: Buffer, header: MemberHeader, body: Buffer): Buffer {
	const sender = Buffer.from(header.sender, 'utf8');
	const fixed = Buffer.alloc(4 + 4 + 8 + 1);
	fixed.writeUInt32BE(header.epoch, 0);
	fixed.writeUInt32BE(header.incarnation, 4);
	fixed.writeBigUInt64BE(BigInt(header.seq), 8);
	fixed.writeUInt8(sender.length, 16);
	const aad = Buffer.concat([prefix(FrameKind.member), fixed, sender]);
	// The nonce is the incarnation and sequence number: unique under a direction key as
	// long as a sender never reuses a sequence number within an incarnation, and far
	// cheaper than 12 random bytes per datagram.
	const nonce = Buffer.alloc(12);
	fixed.copy(nonce, 0, 4, 16);
	const { sealed } = seal(key, body, aad, nonce);
	return Buffer.concat([aad, nonce, sealed]);
}

/** Splits a datagram into its parts without decrypting. Never throws. */
export function parseFrame(bytes: Buffer): Parsed<Frame> {
	if (bytes.length < PREFIX) return fail('too-short');
	if (bytes.length > MAX_DATAGRAM) return fail('oversize');
	if (bytes.readUInt16BE(0) !== MAGIC) return fail('bad-magic');
	if (bytes.readUInt8(2) !== WIRE_VERSION) return fail('bad-version');
	const kind = bytes.readUInt8(3);
	switch (kind) {
		case FrameKind.clear:
			return { ok: true, value: { kind: 'clear', body: bytes.subarray(PREFIX) } };
		case FrameKind.handshake: {
			const headerEnd = PREFIX + KEY_BYTES;
			if (bytes.length < headerEnd + NONCE_BYTES + TAG_BYTES) return fail('truncated');
			return {
				ok: true,
				value: {
					kind: 'handshake',
					clientEphemeral: bytes.subarray(PREFIX, headerEnd),
					aad: bytes.subarray(0, headerEnd),
					nonce: bytes.subarray(headerEnd, headerEnd + NONCE_BYTES),
					sealed: bytes.subarray(headerEnd + NONCE_BYTES),
				},
			};
		}
		case FrameKind.member: {
			if (bytes.length < PREFIX + 17) return fail('truncated');
			const senderLength = bytes.readUInt8(PREFIX + 16);
			const headerEnd = PREFIX + 17 + senderLength;
			if (bytes.length < headerEnd + NONCE_BYTES + TAG_BYTES) return fail('truncated');
			const seq = bytes.readBigUInt64BE(PREFIX + 8);
			if (seq > BigInt(Number.MAX_SAFE_INTEGER)) return fail('malformed');
			return {
				ok: true,
				value: {
					kind: 'member',
					epoch: bytes.readUInt32BE(PREFIX),
					incarnation: bytes.readUInt32BE(PREFIX + 4),
					seq: Number(seq),
					sender: bytes.subarray(PREFIX + 17, headerEnd).toString('utf8'),
					aad: bytes.subarray(0, headerEnd),
					nonce: bytes.subarray(headerEnd, headerEnd + NONCE_BYTES),
					sealed: bytes.subarray(headerEnd + NONCE_BYTES),
				},
			};
		}
		default:
			return fail('unknown-kind');
	}
}

export function openFrame(key: Buffer, frame: { nonce: Buffer; sealed: Buffer; aad: Buffer }): Parsed<Buffer> {
	const body = open(key, frame.nonce, frame.sealed, frame.aad);
	return body === null ? fail('auth-failed') : { ok: true, value: body };
}
