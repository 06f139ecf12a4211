import type { KeyObject } from 'node:crypto';
import type { AssignmentTerms } from '../counting/granter-registry.js';
import type { Assignment } from '../counting/row.js';
import { signBytes, verifyBytes } from './keys.js';

/**
 * Who grants a holder's leases is the tracker's decision alone (design.md §7: "a lease
 * comes only from the sensor the tracker names as granter"). The tracker signs every
 * assignment it makes; the holder carries it in its row, and every replica checks the
 * signature before believing the row, once per assignment.
 */
function assignmentBytes(area: string, holder: string, terms: AssignmentTerms): Buffer {
	return Buffer.from(JSON.stringify(['footfall assignment v2', area, holder, terms.gen, terms.granter, terms.formerTaken, terms.granterTaken, terms.floor]));
}

export function signAssignment(trackerSignPrivate: KeyObject, area: string, holder: string, terms: AssignmentTerms): Assignment {
	return { ...terms, sig: signBytes(trackerSignPrivate, assignmentBytes(area, holder, terms)).toString('base64') };
}

export function verifyAssignment(trackerSignPublic: Buffer, area: string, holder: string, assignment: Assignment): boolean {
	return verifyBytes(trackerSignPublic, assignmentBytes(area, holder, assignment), Buffer.from(assignment.sig, 'base64'));
}
