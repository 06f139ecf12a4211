import type { KeyObject } from 'node:crypto';
import { areaId, sensorId, type SensorId } from '../../model/ids.js';
import type { MallLayout } from '../../model/mall.js';
import { GranterRegistry, type SavedGranters } from '../../counting/granter-registry.js';
import type { MemberMessage } from '../../protocol/messages.js';
import { signAssignment } from '../../security/assignment-signature.js';
import type { RoleEvent } from '../events.js';

type LeaseMessage = Extract<MemberMessage, { type: 'take' | 'reassign' }>;
type Reply = Extract<MemberMessage, { type: 'take-reply' | 'assignment' }>;

/**
 * The tracker's lease duties (counting/granter-registry.ts): it decides takes and granter
 * moves one at a time, and answers each only once the decision that produced the answer
 * is durable. A repeated request that arrives while the first one's write is still
 * running gets its answer then too, never before: an answer the tracker could forget in
 * a crash would let a former granter take twice.
 */
export class LeaseNotary {
	readonly registry: GranterRegistry;
	/** Bumped on every change of the registry. */
	#version = 0;
	/** The registry's version known to be on disk. */
	#durable = 0;
	readonly #waiting: { readonly version: number; readonly to: string; readonly reply: Reply }[] = [];

	constructor(layout: MallLayout, saved: SavedGranters, readonly signKey: KeyObject) {
		this.registry = new GranterRegistry(layout, saved);
	}

	get version(): number {
		return this.#version;
	}

	/**
	 * Decides `message` from `member`, who speaks for `sensor`. The answer waits for the
	 * registry's current version to be durable; `changed` says a write is needed.
	 */
	decide(member: string, sensor: SensorId, message: LeaseMessage): { readonly changed: boolean; readonly events: RoleEvent[] } {
		const area = areaId(message.area);
		const events: RoleEvent[] = [];
		const before = this.#version;
		if (message.type === 'take') {
			const holder = sensorId(message.holder);
			const taken = this.registry.takenBy(area, holder, sensor);
			const verdict = this.registry.take(area, holder, sensor, message.gen, message.total);
			if (verdict.ok && message.total > taken) {
				this.#version++;
				events.push({ type: 'take-approved', area, holder, granter: sensor, gen: message.gen, total: message.total, permits: message.total - taken });
			}
			this.#queue(member, { type: 'take-reply', area, holder, gen: message.gen, total: message.total, ok: verdict.ok, ...(verdict.ok ? {} : { reason: verdict.reason }) });
			return { changed: this.#version !== before, events };
		}
		let reason: string | undefined;
		if (message.to !== null) {
			const previous = this.registry.assignment(area, sensor);
			const verdict = this.registry.reassign(area, sensor, message.gen, sensorId(message.to), message.floor);
			if (!verdict.ok) reason = verdict.reason;
			const after = this.registry.assignment(area, sensor);
			if (after && previous && after.gen !== previous.gen) {
				this.#version++;
				events.push({ type: 'granter-moved', area, holder: sensor, from: previous.granter, to: after.granter, gen: after.gen });
			}
		}
		const terms = this.registry.assignment(area, sensor);
		if (terms) {
			const signed = signAssignment(this.signKey, area, sensor, terms);
			const { gen, granter, formerTaken, granterTaken, floor, sig } = signed;
			this.#queue(member, { type: 'assignment', area, gen, granter, formerTaken, granterTaken, floor, sig, ...(reason === undefined ? {} : { reason }) });
		}
		return { changed: this.#version !== before, events };
	}

	/** The registry as of `version` is on disk: the answers that waited for it, to send now. */
	durable(version: number): { readonly to: string; readonly reply: Reply }[] {
		this.#durable = Math.max(this.#durable, version);
		const ready: { to: string; reply: Reply }[] = [];
		while (this.#waiting.length > 0 && this.#waiting[0]!.version <= this.#durable) ready.push(this.#waiting.shift()!);
		return ready;
	}

	/** Answers not yet durable: the ones waiting now. */
	get waiting(): number {
		return this.#waiting.length;
	}

	#queue(to: string, reply: Reply): void {
		this.#waiting.push({ version: this.#version, to, reply });
	}
}
