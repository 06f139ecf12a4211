/**
 * What a role reports about itself: in headless mode each event is one JSON line on
 * stdout (a scripting contract, documented in the README); the console shows them too.
 */
export interface RoleEvent {
	readonly type: string;
	readonly [field: string]: unknown;
}

export type EventSink = (event: RoleEvent) => void;
