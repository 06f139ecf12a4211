/**
 * Failure detection among neighbours (members that share an area), in the manner of SWIM
 * (Das et al., 2002) without the gossip: every member hears from its neighbours at least
 * once per anti-entropy interval (rows, or heartbeats from observers). A neighbour silent
 * for `probeAfterMs` is pinged; if it does not answer within `indirectAfterMs`, others
 * are asked to ping it (a partition between two members only should not kill either).
 * Silent for `suspectAfterMs` it is suspect, for `deadAfterMs` dead: routing leaves it
 * out. Anything heard from it again, a row, a heartbeat or an ack, and it is alive. A dead
 * neighbour is still pinged, once every `deadAfterMs`: after a partition heals, two sides
 * that declared each other dead would otherwise never speak again.
 *
 * Pure: time is an argument; the shell sends what `tick` asks for.
 */
export type Health = 'alive' | 'suspect' | 'dead';

export interface LivenessTimings {
	readonly probeAfterMs: number;
	readonly indirectAfterMs: number;
	readonly suspectAfterMs: number;
	readonly deadAfterMs: number;
}

/** The defaults: anti-entropy is 1 s, so 2 s of silence is one missed round and a lost datagram. */
export const DEFAULT_LIVENESS: LivenessTimings = {
	probeAfterMs: 2000,
	indirectAfterMs: 2600,
	suspectAfterMs: 3000,
	deadAfterMs: 5000,
};

export type LivenessAction =
	| { readonly kind: 'ping'; readonly to: string }
	| { readonly kind: 'ping-req'; readonly via: string; readonly target: string }
	| { readonly kind: 'changed'; readonly member: string; readonly health: Health; readonly silentMs: number };

interface Watched {
	lastHeard: number;
	health: Health;
	pinged: boolean;
	askedOthers: boolean;
	/** When a dead neighbour was last pinged, to find out whether it is back. */
	revivalPingAt: number;
}

/** How many others are asked to probe a silent neighbour. */
const INDIRECT_PROBES = 2;

export class Liveness {
	readonly #watched = new Map<string, Watched>();
	/** Bumped on every change of health, so routing knows to recompute. */
	version = 0;

	constructor(readonly timings: LivenessTimings = DEFAULT_LIVENESS) {}

	/** Starts watching a neighbour (or keeps watching it), counting silence from `now`. */
	watch(member: string, now: number): void {
		if (!this.#watched.has(member)) this.#watched.set(member, { lastHeard: now, health: 'alive', pinged: false, askedOthers: false, revivalPingAt: now });
	}

	unwatch(member: string): void {
		if (this.#watched.delete(member)) this.version++;
	}

	/** Something authentic arrived from `member`. Returns a change to alive, if it was not. */
	heard(member: string, now: number): LivenessAction | null {
		const watched = this.#watched.get(member);
		if (!watched) return null;
		const silentMs = now - watched.lastHeard;
		watched.lastHeard = now;
		watched.pinged = false;
		watched.askedOthers = false;
		if (watched.health === 'alive') return null;
		watched.health = 'alive';
		this.version++;
		return { kind: 'changed', member, health: 'alive', silentMs };
	}

	health(member: string): Health | undefined {
		return this.#watched.get(member)?.health;
	}

	isDead(member: string): boolean {
		return this.#watched.get(member)?.health === 'dead';
	}

	lastHeard(member: string): number | undefined {
		return this.#watched.get(member)?.lastHeard;
	}

	members(): IterableIterator<[string, { readonly health: Health; readonly lastHeard: number }]> {
		return this.#watched.entries();
	}

	/** What to do now: probes to send, and changes of health. */
	tick(now: number): LivenessAction[] {
		const actions: LivenessAction[] = [];
		const alive = [...this.#watched].filter(([, watched]) => watched.health === 'alive').map(([id]) => id);
		for (const [member, watched] of this.#watched) {
			const silentMs = now - watched.lastHeard;
			if (silentMs >= this.timings.probeAfterMs && !watched.pinged && watched.health !== 'dead') {
				watched.pinged = true;
				actions.push({ kind: 'ping', to: member });
			}
			if (silentMs >= this.timings.indirectAfterMs && !watched.askedOthers && watched.health !== 'dead') {
				watched.askedOthers = true;
				const helpers = alive.filter((id) => id !== member).slice(0, INDIRECT_PROBES);
				for (const via of helpers) actions.push({ kind: 'ping-req', via, target: member });
			}
			if (watched.health === 'dead' && now - watched.revivalPingAt >= this.timings.deadAfterMs) {
				watched.revivalPingAt = now;
				actions.push({ kind: 'ping', to: member });
			}
			const health: Health = silentMs >= this.timings.deadAfterMs ? 'dead' : silentMs >= this.timings.suspectAfterMs ? 'suspect' : watched.health;
			if (health !== watched.health && !(watched.health === 'dead' && health === 'suspect')) {
				watched.health = health;
				if (health === 'dead') watched.revivalPingAt = now;
				this.version++;
				actions.push({ kind: 'changed', member, health, silentMs });
			}
		}
		return actions;
	}
}
