import { randomBytes, randomInt } from 'node:crypto';

/**
 * Randomness, injected like time (design.md §8): every role draws from the `Random` it
 * is given, so that a seeded simulation replays exactly and production uses the
 * system's cryptographic source.
 */
export interface Random {
	/** A number in [0, 1). */
	fraction(): number;
	/** `count` random bytes (keys, nonces, epochs). */
	bytes(count: number): Buffer;
}

/** The system's cryptographically secure source. */
export const systemRandom: Random = {
	fraction: () => randomInt(2 ** 47) / 2 ** 47,
	bytes: (count) => randomBytes(count),
};

/**
 * A small seeded generator (mulberry32): the same seed gives the same sequence on every
 * machine, so a failing simulation can be replayed. Not for secrets outside a simulation.
 */
export function seededRandom(seed: number): Random {
	let state = seed >>> 0;
	const next32 = (): number => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return (t ^ (t >>> 14)) >>> 0;
	};
	return {
		fraction: () => next32() / 4294967296,
		bytes(count) {
			const bytes = Buffer.allocUnsafe(count);
			for (let offset = 0; offset < count; offset += 4) {
				const word = next32();
				for (let byte = 0; byte < 4 && offset + byte < count; byte++) bytes[offset + byte] = (word >>> (8 * byte)) & 0xff;
			}
			return bytes;
		},
	};
}

/** A whole number in [0, count). */
export function pick(random: Random, count: number): number {
	return Math.min(count - 1, Math.floor(random.fraction() * count));
}

/** A new generator whose sequence is fixed by `random`'s next draw: one per member, so adding draws to one never shifts another's. */
export function forkRandom(random: Random): Random {
	return seededRandom(random.bytes(4).readUInt32LE(0));
}
