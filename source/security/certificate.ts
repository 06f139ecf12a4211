import type { MemberRecord } from '../protocol/messages.js';
import { signBytes, verifyBytes } from './keys.js';
import type { KeyObject } from 'node:crypto';

export type UnsignedRecord = Omit<MemberRecord, 'sig'>;

/** The bytes a certificate signs: every field but the signature, in a fixed order. */
function certificateBytes(record: UnsignedRecord): Buffer {
	const { id, role, sensor, areas, host, port, signKey, agreeKey, incarnation, epoch } = record;
	return Buffer.from(JSON.stringify(['footfall certificate v1', id, role, sensor, areas, host, port, signKey, agreeKey, incarnation, epoch]));
}

export function signCertificate(record: UnsignedRecord, trackerKey: KeyObject): MemberRecord {
	return { ...record, sig: signBytes(trackerKey, certificateBytes(record)).toString('base64') };
}

export function verifyCertificate(record: MemberRecord, trackerSignKey: Buffer): boolean {
	return verifyBytes(trackerSignKey, certificateBytes(record), Buffer.from(record.sig, 'base64'));
}
