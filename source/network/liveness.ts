/**
 * Failure detection among neighbours (members that share an area), in the manner of SWIM
 * (Das et al., 2002) without the gossip, with two lessons of Lifeguard (Dadgar et al.,
 * 2018). Every member hears from its neighbours at least once per anti-entropy interval
 * (rows, or heartbeats from observers). A neighbour silent for `probeAfterMs` is pinged,
 * again every `probeEveryMs` while it stays silent; from `indirectAfterMs` others are
 * asked to ping it too, every `indirectEveryMs` (a path broken between two members only
 * must not kill either). Silent for `suspectAfterMs` it is suspect, for `deadAfterMs`
 * dead: routing leaves it out. Anything authentic heard from it — a row, a heartbeat, an
 * ack, an ack relayed by another — and it is alive again at once: that is its refutation,
 * and it needs no new login.
 *
 * Why repeated probes: one probe and its ack both cross a lossy network, so at 30 % loss
 * each round trip succeeds about half the time, and direct and indirect probes together
 * must fail some twenty times in a row before a live neighbour is declared dead.
 *
 * Lifeguard's local health: when this member itself was not running (its ticks came
 * late: a stalled event loop, a stopped process), that time does not count as the
 * neighbours' silence.
 *
 * A dead neighbour is still pinged, once every `deadAfterMs`: after a partition heals,
 * two sides that declared each other dead would otherwise never speak again.
 *
 * Pure: time is an argument; the shell sends what `tick` asks for.
 */
export type Health = 'alive' | 'suspect' | 'dead';

export interface LivenessTimings {
	/** Silence before the first direct ping: a little more than one anti-entropy round. */
	readonly probeAfterMs: number;
	/** Direct pings are repeated this often while the silence lasts. */
	readonly probeEveryMs: number;
	/** Silence before others are asked to ping too. */
	readonly indirectAfterMs: number;
	readonly indirectEveryMs: number;
	/** How many others are asked each time. */
	readonly indirectProbes: number;
	readonly suspectAfterMs: number;
	readonly deadAfterMs: number;
	/** A tick this much later than due means this member was not running: the gap is not held against anyone. */
	readonly stallMs: number;
}

/**
 * Anti-entropy is 1 s, so a neighbour's rows are at most about 1 s apart: dead 2.8 s after
 * the last one means a crash is declared within about 2.8 s (1.8 s at best). In between,
 * ~16 direct and ~20 indirect probes: at 30 % loss on every hop the chance that all of
 * them and the neighbour's own rows are lost is about 1e-8 per episode of silence.
 */
export const DEFAULT_LIVENESS: LivenessTimings = {
	probeAfterMs: 1200,
	probeEveryMs: 100,
	indirectAfterMs: 1500,
	indirectEveryMs: 300,
	indirectProbes: 4,
	suspectAfterMs: 1900,
	deadAfterMs: 2800,
	stallMs: 500,
};

export type LivenessAction =
	| { readonly kind: 'ping'; readonly to: string }
	| { readonly kind: 'ping-req'; readonly via: string; readonly target: string }
	| { readonly kind: 'changed'; readonly member: string; readonly health: Health; readonly silentMs: number };

interface Watched {
	lastHeard: number;
	health: Health;
	nextPingAt: number;
	nextIndirectAt: number;
	/** When a dead neighbour was last pinged, to find out whether it is back. */
	revivalPingAt: number;
}

export class Liveness {
	readonly #watched = new Map<string, Watched>();
	/** When members not watched yet were heard from: one heard already needs no time to join. */
	readonly #heardBefore = new Map<string, number>();
	/** Bumped on every change of health, so routing knows to recompute. */
	version = 0;
	#lastTick: number | null = null;
	/** Where the next indirect probe starts among the alive, so that all of them share the work. */
	#helperCursor = 0;

	constructor(readonly timings: LivenessTimings = DEFAULT_LIVENESS) {}

	/**
	 * Starts watching a neighbour (or keeps watching it), counting silence from `now`. One
	 * never heard from yet is given `joiningMs` more before it is probed: a member that
	 * has just joined cannot read anyone until it has caught up with the directory.
	 */
	watch(member: string, now: number, joiningMs = 0): void {
		if (this.#watched.has(member)) return;
		const heard = this.#heardBefore.get(member);
		this.#heardBefore.delete(member);
		this.#watched.set(member, { lastHeard: heard ?? now + joiningMs, health: 'alive', nextPingAt: 0, nextIndirectAt: 0, revivalPingAt: now });
	}

	/**
	 * Counts silence afresh from `now`, for `member` or for everyone not dead: after we
	 * moved to a new epoch, or one of them did, we could not have heard each other for a
	 * while for reasons that say nothing about whether they live.
	 */
	restartSilence(now: number, member?: string): void {
		for (const [id, watched] of this.#watched) {
			if ((member === undefined || id === member) && watched.health !== 'dead') watched.lastHeard = Math.max(watched.lastHeard, now);
		}
	}

	unwatch(member: string): void {
		if (this.#watched.delete(member)) this.version++;
	}

	/** Something authentic arrived from `member`. Returns a change to alive, if it was not. */
	heard(member: string, now: number): LivenessAction | null {
		const watched = this.#watched.get(member);
		if (!watched) {
			this.#heardBefore.set(member, now);
			return null;
		}
		const silentMs = Math.max(0, now - watched.lastHeard);
		watched.lastHeard = now;
		watched.nextPingAt = 0;
		watched.nextIndirectAt = 0;
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

	/** What to do now: probes to send, and changes of health. Call it at least every `probeEveryMs`. */
	tick(now: number, tickMs: number): LivenessAction[] {
		const stalled = this.#lastTick === null ? 0 : now - this.#lastTick - tickMs;
		this.#lastTick = now;
		if (stalled >= this.timings.stallMs) {
			// We were not running: nobody could have been heard meanwhile.
			for (const watched of this.#watched.values()) watched.lastHeard += stalled;
		}
		const actions: LivenessAction[] = [];
		const { timings } = this;
		let alive: string[] | null = null;
		for (const [member, watched] of this.#watched) {
			const silentMs = now - watched.lastHeard;
			if (watched.health === 'dead') {
				if (now - watched.revivalPingAt >= timings.deadAfterMs) {
					watched.revivalPingAt = now;
					actions.push({ kind: 'ping', to: member });
				}
				continue;
			}
			const health: Health = silentMs >= timings.deadAfterMs ? 'dead' : silentMs >= timings.suspectAfterMs ? 'suspect' : 'alive';
			if (health !== watched.health && health !== 'alive') {
				watched.health = health;
				if (health === 'dead') watched.revivalPingAt = now;
				this.version++;
				actions.push({ kind: 'changed', member, health, silentMs });
				if (health === 'dead') continue;
			}
			if (silentMs >= timings.probeAfterMs && now >= watched.nextPingAt) {
				watched.nextPingAt = now + timings.probeEveryMs;
				actions.push({ kind: 'ping', to: member });
			}
			if (silentMs >= timings.indirectAfterMs && now >= watched.nextIndirectAt) {
				watched.nextIndirectAt = now + timings.indirectEveryMs;
				alive ??= [...this.#watched].filter(([, each]) => each.health === 'alive').map(([id]) => id);
				for (const via of this.#helpers(alive, member)) actions.push({ kind: 'ping-req', via, target: member });
			}
		}
		return actions;
	}

	#helpers(alive: readonly string[], target: string): string[] {
		const candidates = alive.filter((id) => id !== target);
		const helpers: string[] = [];
		for (let n = 0; n < Math.min(this.timings.indirectProbes, candidates.length); n++) {
			helpers.push(candidates[(this.#helperCursor + n) % candidates.length]!);
		}
		this.#helperCursor = (this.#helperCursor + 1) % Math.max(1, candidates.length);
		return helpers;
	}
}
