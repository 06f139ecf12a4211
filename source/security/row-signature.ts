import type { KeyObject } from 'node:crypto';
import type { Assignment, Row } from '../counting/row.js';
import { signBytes, verifyBytes } from './keys.js';

/**
 * A row signed by its owner: what lets any member pass a row on (to the owner itself
 * after a crash, to a replica that missed it) and the receiver tell that the owner wrote
 * exactly that (design.md §7: "a row passed on by a third party counts only with its
 * owner's signature"). Only the owner signs, once per version it sends (~35 µs);
 * receivers keep the signature and check it only when a row reaches them second-hand
 * (~95 µs), which is rare: the direct path is already authenticated by the pairwise key.
 */
function rowBytes(owner: string, area: string, row: Row): Buffer {
	const sorted = <T>(map: ReadonlyMap<string, T>): [string, T][] => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	const { entries, exits, staffEntries, staffExits, refused } = row;
	const leases = sorted(row.leases).map(([holder, lease]) => [holder, lease.gen, lease.cap]);
	const assignment = row.assignment === null ? null : assignmentTuple(row.assignment);
	return Buffer.from(JSON.stringify(['footfall row v2', owner, area, entries, exits, staffEntries, staffExits, refused, sorted(row.given), sorted(row.taken), leases, assignment]));
}

const assignmentTuple = (a: Assignment): unknown[] => [a.gen, a.granter, a.formerTaken, a.granterTaken, a.floor, a.sig];

export function signRow(signPrivate: KeyObject, owner: string, area: string, row: Row): string {
	return signBytes(signPrivate, rowBytes(owner, area, row)).toString('base64');
}

export function verifyRow(signPublic: Buffer, owner: string, area: string, row: Row, signature: string): boolean {
	return verifyBytes(signPublic, rowBytes(owner, area, row), Buffer.from(signature, 'base64'));
}
