import { z } from 'zod';

/**
 * Every message footfall sends, as zod schemas: parsed once at the edge, trusted inside.
 * Field names are short because they travel in every datagram; each is documented here.
 */

const id = z.string().min(1).max(64);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** An explicit subscription longer than this would not fit a member record in one datagram. */
export const MAX_SUBSCRIBED_AREAS = 40;
const key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/); // 32 bytes, base64

/** One sensor's row of one area (see counting/row.ts); the owner is the datagram's sender. */
export const wireRow = z.strictObject({
	a: id, // area
	e: count, // entries
	x: count, // exits
	se: count, // staff entries
	sx: count, // staff exits
	r: count, // refused
	g: z.record(id, count), // permits given, by receiving sensor
	t: z.record(id, count).optional(), // permits taken back, by dead holder (absent: none)
	l: z.record(id, z.tuple([count, count, count])).optional(), // leases granted, by holder: [gen, cap, basis]
	as: z.tuple([count, id, count, count]).optional(), // own assignment: [gen, granter, formerTaken, floor]
});
export type WireRow = z.infer<typeof wireRow>;

/** A member as the tracker certifies it; `sig` is the tracker's Ed25519 over the rest. */
export const memberRecord = z.strictObject({
	id,
	role: z.enum(['sensor', 'observer']),
	sensor: id.nullable(),
	/** Observers: the areas they follow, null for all. Sensors: null (their areas follow from the layout). */
	areas: z.array(id).max(MAX_SUBSCRIBED_AREAS).nullable(),
	host: z.string().min(1).max(64),
	port: z.number().int().min(1).max(65535),
	signKey: key,
	agreeKey: key,
	incarnation: z.number().int().positive(),
	epoch: z.number().int().nonnegative(),
	sig: z.string().max(100),
});
export type MemberRecord = z.infer<typeof memberRecord>;

// ---- the handshake with the tracker ------------------------------------------------

export const hello = z.strictObject({ type: z.literal('hello'), eph: key });
export const challenge = z.strictObject({
	type: z.literal('challenge'),
	/** The tracker's static X25519 key (its identity for logins) and a fresh ephemeral one. */
	trackerKey: key,
	eph: key,
});
export const clearRefusal = z.strictObject({ type: z.literal('refused'), reason: z.string().max(300) });
/**
 * Tracker → whoever sent a member datagram of an epoch it does not know: "log in again".
 * In clear, because the sender's epoch key is gone with the tracker's restart; forging it
 * only makes a member log in again.
 */
export const rejoinHint = z.strictObject({ type: z.literal('rejoin'), epoch: z.number().int().nonnegative() });
export const clearMessage = z.discriminatedUnion('type', [hello, challenge, clearRefusal, rejoinHint]);
export type ClearMessage = z.infer<typeof clearMessage>;

export const login = z.strictObject({
	type: z.literal('login'),
	user: id,
	password: z.string().max(1024),
	/** What the member means to be; the tracker refuses it if the account says otherwise. */
	role: z.enum(['sensor', 'observer']),
	/** A sensor peer may name the sensor it expects to speak for (null: the account's). */
	sensor: id.nullable(),
	signKey: key,
	agreeKey: key,
	/** Observers: the areas to follow (null: all). */
	areas: z.array(id).max(MAX_SUBSCRIBED_AREAS).nullable(),
	/** The incarnation this member's own log says it last had (0: none). */
	lastIncarnation: count,
});
export const welcome = z.strictObject({
	type: z.literal('welcome'),
	epoch: z.number().int().nonnegative(),
	networkKey: key,
	member: memberRecord,
	trackerId: id,
	trackerSignKey: key,
	trackerAgreeKey: key,
	/** The layout document to fetch before serving. */
	layout: z.strictObject({ version: count, chunks: count }),
	/** The directory's version with this member in it: a member serves once it has caught up. */
	directoryVersion: count,
});
export const sealedRefusal = z.strictObject({
	type: z.literal('refused'),
	reason: z.string().max(300),
	/** For throttled logins: when to try again. */
	retryAfterMs: count.optional(),
});
export const handshakeMessage = z.discriminatedUnion('type', [login, welcome, sealedRefusal]);
export type HandshakeMessage = z.infer<typeof handshakeMessage>;

// ---- between members ---------------------------------------------------------------

export const rowsMessage = z.strictObject({
	type: z.literal('rows'),
	rows: z.array(wireRow).max(64),
	/** The sender's own datagram counters, so observers can show what filtering saves network-wide. */
	traffic: z.strictObject({ sent: count, flood: count }).optional(),
});
export const permitRequest = z.strictObject({ type: z.literal('permit-request'), area: id, want: count });
export const permitDenied = z.strictObject({ type: z.literal('permit-denied'), area: id });
/** Holder → its granter: raise my lease in `area` (counting/lease.ts LeaseRequest). */
export const leaseRequest = z.strictObject({ type: z.literal('lease-request'), area: id, gen: count, basis: count, out: count, want: count, floor: count });
/** Granter → tracker: may I have taken `total` (cumulative) from dead `holder`? */
export const takeRequest = z.strictObject({ type: z.literal('take'), area: id, holder: id, gen: count, total: count });
export const takeReply = z.strictObject({ type: z.literal('take-reply'), area: id, holder: id, gen: count, total: count, ok: z.boolean(), reason: z.string().max(200).optional() });
/** Holder → tracker: move my leases in `area` from generation `gen` to `to` (null: just tell me who grants them). */
export const reassignRequest = z.strictObject({ type: z.literal('reassign'), area: id, gen: count, to: id.nullable(), floor: count });
/** Tracker → holder: who grants its leases in `area` now (see counting/row.ts Assignment). */
export const assignmentReply = z.strictObject({ type: z.literal('assignment'), area: id, gen: count, granter: id, formerTaken: count, floor: count, reason: z.string().max(200).optional() });

/** Member → tracker, every few seconds and whenever a change looks missed: "I have up to version". */
export const directoryPull = z.strictObject({ type: z.literal('directory-pull'), version: count });
/**
 * Tracker → member: one page of the directory. It holds the current record (or, in
 * `left`, the id) of every member whose last change has a version in (`from`, `to`].
 * A member at version v applies any page with from ≤ v < to and is then at `to`.
 */
export const directoryPage = z.strictObject({
	type: z.literal('directory-page'),
	from: count,
	to: count,
	joined: z.array(memberRecord).max(2),
	left: z.array(id).max(32),
});
export const documentPull = z.strictObject({
	type: z.literal('doc-pull'),
	doc: z.literal('layout'),
	version: count,
	index: count,
});
export const documentChunk = z.strictObject({
	type: z.literal('doc-chunk'),
	doc: z.literal('layout'),
	version: count,
	index: count,
	total: count,
	data: z.string().max(1100),
});
export const leave = z.strictObject({ type: z.literal('leave') });
/** A restarted sensor asks who holds its own rows (its log may be gone or damaged). */
export const ownRowsQuery = z.strictObject({ type: z.literal('own-rows-query') });
/** The asker's own rows as this member holds them, for the areas they share. */
export const ownRowsReply = z.strictObject({ type: z.literal('own-rows'), rows: z.array(wireRow).max(64) });
/** Failure detection (network/liveness.ts): are you there? */
export const ping = z.strictObject({ type: z.literal('ping') });
/** I am (or, with `for`, that member answered my ping on your behalf). */
export const ack = z.strictObject({ type: z.literal('ack'), for: id.optional() });
/** Please ping `target` for me: I cannot hear it, perhaps only I cannot. */
export const pingRequest = z.strictObject({ type: z.literal('ping-req'), target: id });
/** From observers, which send no rows, so the sensors they follow know they are there. */
export const heartbeat = z.strictObject({ type: z.literal('heartbeat') });
/** Tracker → member: another process logged in as this member; this one must stop. */
export const superseded = z.strictObject({ type: z.literal('superseded'), incarnation: count });

export const memberMessage = z.discriminatedUnion('type', [
	rowsMessage,
	permitRequest,
	permitDenied,
	leaseRequest,
	takeRequest,
	takeReply,
	reassignRequest,
	assignmentReply,
	directoryPull,
	directoryPage,
	documentPull,
	documentChunk,
	leave,
	superseded,
	ownRowsQuery,
	ownRowsReply,
	ping,
	ack,
	pingRequest,
	heartbeat,
]);
export type MemberMessage = z.infer<typeof memberMessage>;
export type MemberMessageType = MemberMessage['type'];
