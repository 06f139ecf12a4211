import { AreaLedger } from '../counting/area-ledger.js';
import { SensorCounter } from '../counting/sensor-counter.js';
import type { Address } from '../network/address.js';
import { parseFrame } from '../protocol/frame.js';
import { PeerJournal } from '../recovery/peer-journal.js';
import { MemberCore, isRejoinHint } from '../roles/member/member-core.js';

/**
 * Bugs the simulator must find, put in on purpose (mutation testing): if it did not fail
 * with one of these, its invariants would be checking nothing.
 */
export const MUTATIONS = {
	/** Permits that never run out: every door admits on the room it sees, however stale its view. */
	'endless-permits': () => patch(AreaLedger.prototype, 'permitsOf', () => () => 1_000_000),
	/** A door that spends past the lease its granter gave it: its granter may take back what it spent. */
	'ignore-lease-cap': () => patch(SensorCounter.prototype, 'budget', () => () => Infinity),
	/** A log that says a record is durable before it is: a crash then loses admissions the gate answered. */
	'answer-before-durable': () =>
		patch(PeerJournal.prototype, 'write', (original) =>
			function (this: PeerJournal, rows: Parameters<PeerJournal['write']>[0]) {
				void original.call(this, rows).catch(() => {});
				return Promise.resolve();
			},
		),
	/** Members deaf to "log in again": after a tracker restart they never follow it into its epoch. */
	'deaf-to-hints': () =>
		patch(MemberCore.prototype, 'receive', (original) =>
			function (this: MemberCore, bytes: Buffer, from: Address, now: number) {
				const frame = parseFrame(bytes);
				if (frame.ok && frame.value.kind === 'clear' && isRejoinHint(frame.value.body)) return;
				original.call(this, bytes, from, now);
			},
		),
} as const;

export type Mutation = keyof typeof MUTATIONS;

export function isMutation(name: string): name is Mutation {
	return Object.hasOwn(MUTATIONS, name);
}

/** Puts the mutation in; returns what takes it out again. */
export function applyMutation(mutation: Mutation): () => void {
	return MUTATIONS[mutation]();
}

function patch<T extends object, K extends keyof T>(target: T, key: K, replace: (original: T[K]) => T[K]): () => void {
	const original = target[key];
	target[key] = replace(original);
	return () => {
		target[key] = original;
	};
}
