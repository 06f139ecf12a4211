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
 * Hierarchy filtering (design.md §3): the members an area's events go to. Asked for on
 * every flush, so kept in two caches: every follower of an area, rebuilt when the
 * directory changes; and the live ones among them, refiltered when liveness changes.
 * Callers with and without liveness share the first and never clear each other's.
 */
export class Router {
	#directory: Directory | null = null;
	#version = -1;
	#livenessVersion = -1;
	readonly #followers = new Map<AreaId, string[]>();
	readonly #live = new Map<AreaId, string[]>();

	constructor(readonly layout: MallLayout, readonly self: string) {}

	/** The members that follow `area`; with `liveness`, those declared dead get nothing (design.md §5). */
	recipients(area: AreaId, directory: Directory, liveness?: { readonly version: number; isDead(id: string): boolean }): readonly string[] {
		if (directory !== this.#directory || directory.version !== this.#version) {
			this.#followers.clear();
			this.#live.clear();
			this.#directory = directory;
			this.#version = directory.version;
		}
		let followers = this.#followers.get(area);
		if (!followers) {
			followers = [];
			for (const member of directory.members()) {
				if (member.id !== this.self && caresAbout(this.layout, member, area)) followers.push(member.id);
			}
			this.#followers.set(area, followers);
		}
		if (!liveness) return followers;
		if (liveness.version !== this.#livenessVersion) {
			this.#live.clear();
			this.#livenessVersion = liveness.version;
		}
		let live = this.#live.get(area);
		if (!live) {
			live = followers.filter((id) => !liveness.isDead(id));
			this.#live.set(area, live);
		}
		return live;
	}
}
