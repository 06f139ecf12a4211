import type { Direction, Person } from '../counting/sensor-counter.js';

export type PeerCommand =
	| { readonly kind: 'move'; readonly direction: Direction; readonly person: Person }
	| { readonly kind: 'status' }
	| { readonly kind: 'quit' }
	| { readonly kind: 'empty' }
	| { readonly kind: 'unknown'; readonly text: string };

/** Parses one line of a headless peer's stdin. */
export function parsePeerCommand(line: string): PeerCommand {
	const words = line.trim().toLowerCase().split(/\s+/).filter(Boolean);
	const [verb, object, ...rest] = words;
	if (verb === undefined) return { kind: 'empty' };
	if ((verb === 'enter' || verb === 'exit') && rest.length === 0 && (object === undefined || object === 'staff' || object === 'visitor')) {
		return { kind: 'move', direction: verb, person: object === 'staff' ? 'staff' : 'visitor' };
	}
	if (verb === 'status' && object === undefined) return { kind: 'status' };
	if (verb === 'quit' && object === undefined) return { kind: 'quit' };
	return { kind: 'unknown', text: line.trim() };
}
