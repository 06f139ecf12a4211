import { crc32 } from 'node:zlib';

/**
 * The one place that knows how a record sits in a log file (record-log.ts describes the
 * files around it): `[u32 length][u32 crc32(payload)][payload]`, big-endian, frames back
 * to back with nothing between them. Pure functions over buffers: no file is touched
 * here, so torn and corrupt logs are tested as plain bytes.
 */
export const HEADER_BYTES = 8;

/**
 * The largest payload a record may hold. A length field above it cannot have been
 * written by us, so it is damage; the bound also keeps one bad length from making
 * replay read (or search) gigabytes.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/**
 * How many payload bytes the search for a frame after a bad one may checksum before it
 * gives up. Real records are small, so the next frame is found within a few hundred
 * bytes; only a long tail of random bytes (where one offset in 256 has a plausible
 * length) would spend it, and that tail is then reported as torn rather than costing
 * minutes (see `followedByFrame`).
 */
const SEARCH_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Whether a payload can be a record. Empty payloads cannot: a frame of length 0 has
 * checksum 0, so it is eight zero bytes, and zeros are what a crash leaves at the end of
 * a file whose size reached the disk before its data did (etcd's decoder reads a zero
 * length as the end of the log for the same reason).
 */
export function recordFits(payload: Buffer): boolean {
	return payload.length > 0 && payload.length <= MAX_RECORD_BYTES;
}

/** Writes the frame of `payload` into `target` at `offset`; the caller makes room for `HEADER_BYTES + payload.length`. */
export function writeFrame(target: Buffer, offset: number, payload: Buffer): void {
	target.writeUInt32BE(payload.length, offset);
	target.writeUInt32BE(crc32(payload), offset + 4);
	payload.copy(target, offset + HEADER_BYTES);
}

/** One frame in a buffer of its own. */
export function encodeFrame(payload: Buffer): Buffer {
	const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
	writeFrame(frame, 0, payload);
	return frame;
}

export interface Scan {
	/** Offset in the buffer where scanning stopped: the first byte not in a valid frame. */
	readonly end: number;
	/**
	 * `bad`: the frame at `end` can never be valid (its length is 0 or absurd, or it fails
	 * its checksum). `partial`: the buffer ends inside the frame at `end` (or exactly at
	 * it, when `end` is the buffer's length); more bytes may complete it.
	 */
	readonly stop: 'bad' | 'partial';
	/** For `partial`: how many bytes the frame at `end` needs in all, as far as is known yet. */
	readonly need: number;
}

/**
 * Checks the frames of `bytes` from `from` on and pushes each valid payload onto
 * `records` — as a view into `bytes`, not a copy, since replay keeps them all anyway.
 */
export function scanFrames(bytes: Buffer, from: number, records: Buffer[]): Scan {
	let at = from;
	while (bytes.length - at >= HEADER_BYTES) {
		const length = bytes.readUInt32BE(at);
		if (length === 0 || length > MAX_RECORD_BYTES) return { end: at, stop: 'bad', need: 0 };
		const stop = at + HEADER_BYTES + length;
		if (stop > bytes.length) return { end: at, stop: 'partial', need: HEADER_BYTES + length };
		const payload = bytes.subarray(at + HEADER_BYTES, stop);
		if (crc32(payload) !== bytes.readUInt32BE(at + 4)) return { end: at, stop: 'bad', need: 0 };
		records.push(payload);
		at = stop;
	}
	return { end: at, stop: 'partial', need: HEADER_BYTES };
}

/** Whether a whole valid frame starts at `at` and ends inside `bytes`; `budget` is charged the bytes checksummed. */
function validFrameAt(bytes: Buffer, at: number, budget: { left: number }): boolean {
	if (bytes.length - at < HEADER_BYTES) return false;
	const length = bytes.readUInt32BE(at);
	if (length === 0 || length > MAX_RECORD_BYTES || at + HEADER_BYTES + length > bytes.length) return false;
	budget.left -= length;
	return crc32(bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length)) === bytes.readUInt32BE(at + 4);
}

/**
 * Given the bytes of a log from its first bad frame to the end of the file, whether a
 * valid frame follows the bad one — the line between `corrupt` (records were written
 * after it, so the disk changed or lost bytes in the middle) and `torn` (nothing
 * readable follows: a crash cut the last write short, or left zeros or garbage).
 *
 * First the bad frame's own length is trusted, and the frame right after it checked
 * (a flipped payload or checksum byte). Then every later byte offset is tried, since
 * the length itself may be what broke; the next real frame starts at most
 * `HEADER_BYTES + MAX_RECORD_BYTES` after the bad one, so the search stops there.
 */
export function followedByFrame(tail: Buffer): boolean {
	return nextFrameAt(tail) !== null;
}

/** Where in `tail` (the bytes from a bad frame on) the next valid frame starts, or null if none does (see followedByFrame). */
export function nextFrameAt(tail: Buffer): number | null {
	const budget = { left: SEARCH_BUDGET_BYTES };
	if (tail.length >= HEADER_BYTES) {
		const claimed = tail.readUInt32BE(0);
		if (claimed > 0 && claimed <= MAX_RECORD_BYTES && validFrameAt(tail, HEADER_BYTES + claimed, budget)) return HEADER_BYTES + claimed;
	}
	const last = Math.min(tail.length - HEADER_BYTES - 1, HEADER_BYTES + MAX_RECORD_BYTES);
	for (let at = 1; at <= last && budget.left > 0; at++) {
		if (validFrameAt(tail, at, budget)) return at;
	}
	return null;
}

/** The payload of a snapshot file — exactly one frame filling the whole file — or null if the file is not one. */
export function decodeSnapshot(bytes: Buffer): Buffer | null {
	if (bytes.length < HEADER_BYTES || bytes.readUInt32BE(0) !== bytes.length - HEADER_BYTES) return null;
	const payload = bytes.subarray(HEADER_BYTES);
	return crc32(payload) === bytes.readUInt32BE(4) ? payload : null;
}
