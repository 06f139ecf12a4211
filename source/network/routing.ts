import type { AreaId } from '../model/ids.js';
import type { MallLayout } from '../model/mall.js';
import type { MemberRecord } from '../protocol/messages.js';

/** Whether a member follows an area: its sensors, and the observers subscribed to it. */
export function caresAbout(layout: MallLayout, member: MemberRecord, area: AreaId): boolean {
	if (member.role === 'observer') return member.areas === null || member.areas.includes(area);
	return member.sensor !== null && (layout.sensorsOf.get(area) ?? []).includes(member.sensor as never);
}

/** What routing needs of a directory: a version that changes with it, and its members. */
export interface Directory {
	readonly version: number;
	members(): Iterable<MemberRecord>;
}

/**
 * Hierarchy filtering (design.md §3): the members an area's events go to. Recomputed only
 * when the directory changes, since it is asked for on every flush.
 */
export class Router {
	#directory: Directory | null = null;
	#version = -1;
	#livenessVersion = -1;
	readonly #cache = new Map<AreaId, string[]>();

	constructor(readonly layout: MallLayout, readonly self: string) {}

	/** The live members that follow `area`; members declared dead get nothing (design.md §5). */
	recipients(area: AreaId, directory: Directory, liveness?: { readonly version: number; isDead(id: string): boolean }): readonly string[] {
		const livenessVersion = liveness?.version ?? -1;
		if (directory !== this.#directory || directory.version !== this.#version || livenessVersion !== this.#livenessVersion) {
			this.#cache.clear();
			this.#directory = directory;
			this.#version = directory.version;
			this.#livenessVersion = livenessVersion;
		}
		let ids = this.#cache.get(area);
		if (!ids) {
			ids = [];
			for (const member of directory.members()) {
				if (member.id !== this.self && caresAbout(this.layout, member, area) && !liveness?.isDead(member.id)) ids.push(member.id);
			}
			this.#cache.set(area, ids);
		}
		return ids;
	}
}
