import { z } from 'zod';

/**
 * Every message footfall sends, as zod schemas: parsed once at the edge, trusted inside.
 * Field names are short because they travel in every datagram; each is documented here.
 */

const id = z.string().min(1).max(64);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Incarnations travel in every member frame's header in 4 bytes (protocol/frame.ts): none may be larger. */
export const MAX_INCARNATION = 0xffff_ffff;
const incarnationNumber = z.number().int().nonnegative().max(MAX_INCARNATION);
/** An explicit subscription longer than this would not fit a member record in one datagram. */
export const MAX_SUBSCRIBED_AREAS = 40;
const key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/); // 32 bytes, base64
const signature = z.string().regex(/^[A-Za-z0-9+/]{86}==$/); // 64 bytes (Ed25519), base64
const cookie = z.string().regex(/^[A-Za-z0-9+/]{22}==$/); // 16 bytes, base64 (also a login's `run`)

/**
 * One sensor's row of one area (see counting/row.ts), signed by its owner so that any
 * member holding it can pass it on and the receiver can tell it was not changed
 * (security/row-signature.ts). The owner is the datagram's sender, or `o` when relayed.
 */
export const unsignedWireRow = z.strictObject({
	a: id, // area
	e: count, // entries
	x: count, // exits
	se: count, // staff entries
	sx: count, // staff exits
	r: count, // refused
	g: z.record(id, count), // permits given, by receiving sensor
	t: z.record(id, count).optional(), // permits taken back, by dead holder (absent: none)
	l: z.record(id, z.tuple([count, count])).optional(), // leases granted, by holder: [gen, cap]
	as: z.tuple([count, id, count, count, count, signature]).optional(), // own assignment: [gen, granter, formerTaken, granterTaken, floor, the tracker's signature]
});
/** A row as its owner keeps it in its log: the log is its own, so it needs no signature. */
export type UnsignedWireRow = z.infer<typeof unsignedWireRow>;
export const wireRow = unsignedWireRow.extend({ s: signature }); // the owner's Ed25519 signature over the rest
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
	incarnation: incarnationNumber.positive(),
	epoch: z.number().int().nonnegative(),
	sig: signature,
});
export type MemberRecord = z.infer<typeof memberRecord>;

// ---- the handshake with the tracker (security/handshake-keys.ts) --------------------

/** Member → tracker, in clear: a fresh X25519 key for this login. */
export const hello = z.strictObject({ type: z.literal('hello'), eph: key });
/**
 * Tracker → member, in clear, stateless (WireGuard's cookie reply is the model): the
 * tracker keeps nothing per hello. `eph` is the tracker's key of the current period,
 * `cookie` a MAC of the member's key and address under a secret of that period: it goes
 * into the login key, so only whoever receives at that address can log in, and a flood
 * of hellos from forged addresses costs the tracker one MAC each and no memory.
 */
export const challenge = z.strictObject({
	type: z.literal('challenge'),
	/** The hello this answers (its `eph`): a challenge for another hello is ignored. */
	for: key,
	/** The tracker's static X25519 key: its identity for logins, pinned by members. */
	trackerKey: key,
	eph: key,
	period: count,
	cookie,
});
/**
 * Tracker → whoever sent a member datagram of an epoch it does not know: "log in again".
 * In clear (the sender's epoch key is gone with the tracker's restart), so anyone can
 * forge it: a member takes it only as a reason to check, and logs in again only if the
 * tracker then stops answering it in its epoch (roles/member/tracker-watch.ts).
 */
export const rejoinHint = z.strictObject({ type: z.literal('rejoin'), epoch: z.number().int().nonnegative() });
export const clearMessage = z.discriminatedUnion('type', [hello, challenge, rejoinHint]);
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
	/**
	 * The member's signature, with `signKey`, over this handshake (security/handshake-keys.ts
	 * `deviceProof`): a member whose key the tracker certified before is let in on it
	 * without a password check, so guessing its password cannot lock it out.
	 */
	proof: signature,
	/** Observers: the areas to follow (null: all). */
	areas: z.array(id).max(MAX_SUBSCRIBED_AREAS).nullable(),
	/** The incarnation this member's own log says it last had (0: none). */
	lastIncarnation: incarnationNumber,
	/** True when this very process had `lastIncarnation` and is still running (a re-login, not a restart). */
	continuing: z.boolean(),
	/**
	 * Random, once per process run: a login the tracker already welcomed from the same run
	 * (the welcome was lost, the member tried again) gets the same incarnation, not the next.
	 */
	run: cookie,
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
	/** The tracker is busy checking other logins: try again after `retryAfterMs`, by yourself. */
	busy: z.boolean().optional(),
	/** The operator revoked this account: it must stop deciding. */
	revoked: z.boolean().optional(),
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
export const leaseRequest = z.strictObject({ type: z.literal('lease-request'), area: id, gen: count, out: count, want: count, floor: count });
/** Granter → tracker: may I have taken `total` (cumulative) from dead `holder`? */
export const takeRequest = z.strictObject({ type: z.literal('take'), area: id, holder: id, gen: count, total: count });
export const takeReply = z.strictObject({ type: z.literal('take-reply'), area: id, holder: id, gen: count, total: count, ok: z.boolean(), reason: z.string().max(200).optional() });
/** Holder → tracker: move my leases in `area` from generation `gen` to `to` (null: just tell me who grants them). */
export const reassignRequest = z.strictObject({ type: z.literal('reassign'), area: id, gen: count, to: id.nullable(), floor: count });
/**
 * Tracker → holder: who grants its leases in `area` now (see counting/row.ts Assignment),
 * signed (`sig`) so that the holder can show it in its row and every replica can check it.
 */
export const assignmentReply = z.strictObject({ type: z.literal('assignment'), area: id, gen: count, granter: id, formerTaken: count, granterTaken: count, floor: count, sig: signature, reason: z.string().max(200).optional() });

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
/**
 * Member → member: "send me the record of `id`", asked when a member speaks to us with
 * keys we do not know yet (it restarted while the tracker could not tell us).
 */
export const recordQuery = z.strictObject({ type: z.literal('record-query'), id });
/** Member → member: the tracker-signed record asked for; believed only if the tracker's key signs it. */
export const recordAnswer = z.strictObject({ type: z.literal('record'), record: memberRecord });
/**
 * "Send me the latest signed rows you hold": of every sensor of the areas we share (a
 * restarting sensor, whose log may be gone or behind), or only of `owners` (a replica
 * holding a row it cannot check yet, whose missing cause may be another's lost row).
 */
export const rowsQuery = z.strictObject({ type: z.literal('rows-query'), owners: z.array(id).max(64).optional() });
/**
 * Rows of `owner`, passed on by a member that holds them, with the certificate of the key
 * that signed them: they count only if that signature checks out (design.md §7).
 */
export const relayedRows = z.strictObject({
	type: z.literal('relayed-rows'),
	owner: id,
	/** The certificate of the key that signed the rows; null only in an empty answer. */
	signer: memberRecord.nullable(),
	rows: z.array(wireRow).max(8),
	/** This message is part `[index, of]` of one answer: the asker knows when it has all of it. */
	part: z.tuple([count, count]),
});
/**
 * A member frame sealed by one member for another, carried by a third (base64): the
 * carrier can pass it on, but neither read it nor forge it. Smaller than a datagram.
 */
const sealedFrame = z.string().max(1024);
/** Failure detection (network/liveness.ts): are you there? `via`: the helper this ping came through, to answer through. */
export const ping = z.strictObject({ type: z.literal('ping'), via: id.optional() });
/** I am. */
export const ack = z.strictObject({ type: z.literal('ack') });
/**
 * Please pass `ping` (my ping, sealed for `target`) on: I cannot hear it, perhaps only I
 * cannot. Its ack comes back sealed for me, so no helper can vouch for a dead member.
 */
export const pingRequest = z.strictObject({ type: z.literal('ping-req'), target: id, ping: sealedFrame });
/** The target of a ping that came through us answers: its `ack`, sealed for `to`, for us to pass on. */
export const ackRelay = z.strictObject({ type: z.literal('ack-relay'), to: id, ack: sealedFrame });
/** From observers, which send no rows, so the sensors they follow know they are there. */
export const heartbeat = z.strictObject({ type: z.literal('heartbeat') });
/** Tracker → member: another process logged in as this member; this one must stop. */
export const superseded = z.strictObject({ type: z.literal('superseded'), incarnation: incarnationNumber });
/**
 * Tracker → member, over the old epoch's link: the network moves to a new epoch and key,
 * without `left` (revoked): it can no longer read or send anything, and everyone else
 * goes on without logging in again. `member` is this member's record re-certified.
 */
export const rekey = z.strictObject({ type: z.literal('rekey'), epoch: z.number().int().nonnegative(), networkKey: key, member: memberRecord, left: id });

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
	recordQuery,
	recordAnswer,
	superseded,
	rowsQuery,
	relayedRows,
	ping,
	ack,
	pingRequest,
	ackRelay,
	heartbeat,
	rekey,
]);
export type MemberMessage = z.infer<typeof memberMessage>;
export type MemberMessageType = MemberMessage['type'];
