import { z } from 'zod';
import { HASH_BYTES } from '../security/password.js';

/**
 * The mall fixture as JSON, checked field by field. Every rule carries the sentence a
 * person fixing the file needs, naming the value found; `load-mall.ts` adds the file and
 * the field's path, and checks what spans fields (ids, references, capacities, reach).
 */

/** A value as a problem text quotes it: short, and JSON-looking. */
function shown(value: unknown): string {
	if (Array.isArray(value)) return 'a list';
	if (value === null) return 'null';
	if (typeof value === 'object') return 'an object';
	const text = JSON.stringify(value) ?? String(value);
	return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** A message for a value of the wrong kind; a missing field is just "is required". */
const expected = (what: string) => (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}, not ${shown(issue.input)}`);

/** Ids are lowercase so they read the same in file names, logs and URLs. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
/** An id travels in every datagram header; the wire format caps it at 64 characters. */
export const ID_MAX_LENGTH = 64;
/** The algorithm's inputs would be refused by node anyway: scrypt needs a power of two, and ≥ 1024 keeps guessing slow. */
export const SCRYPT_MIN_N = 1024;
/** 128·N·r bytes per login: 2²⁰ with r = 8 is already 1 GiB, more is a typo, not a policy. */
export const SCRYPT_MAX_N = 1 << 20;
export const SALT_MIN_BYTES = 16;

const id = z
	.string({ error: expected('a string') })
	.min(1, { error: 'must not be empty', abort: true })
	.max(ID_MAX_LENGTH, { error: (issue) => `must be at most ${ID_MAX_LENGTH} characters, not ${String(issue.input).length}`, abort: true })
	.regex(ID_PATTERN, { error: (issue) => `must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, not ${shown(issue.input)}` });

const name = z.string({ error: expected('a string') }).min(1, { error: 'must not be empty' });

const positiveInteger = z
	.number({ error: expected('a positive integer') })
	.int({ error: (issue) => `must be a positive integer, not ${shown(issue.input)}`, abort: true })
	.positive({ error: (issue) => `must be a positive integer, not ${shown(issue.input)}` });

/** Canonical base64 (RFC 4648 §4, padded): node's decoder would quietly skip anything else. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const base64 = z.string({ error: expected('a base64 string') }).regex(BASE64, { error: (issue) => `must be a base64 string, not ${shown(issue.input)}`, abort: true });
const byteLength = (text: string) => Buffer.from(text, 'base64').length;

const list = <T extends z.ZodType>(item: T, what: string) => z.array(item, { error: expected(`a list of ${what}`) });

export const storeSchema = z.strictObject({ id, name, capacity: positiveInteger }, { error: expected('an object') });

export const floorSchema = z.strictObject({ id, name, capacity: positiveInteger, stores: list(storeSchema, 'stores') }, { error: expected('an object') });

export const SENSOR_KINDS = ['entrance', 'staff-entrance', 'escalator', 'store-door'] as const;
const sensorBase = { id, name: name.optional() };
export const sensorSchema = z.discriminatedUnion(
	'kind',
	[
		z.strictObject({ ...sensorBase, kind: z.literal('entrance'), floor: id }),
		z.strictObject({ ...sensorBase, kind: z.literal('staff-entrance'), floor: id }),
		z.strictObject({ ...sensorBase, kind: z.literal('escalator'), from: id, to: id }),
		z.strictObject({ ...sensorBase, kind: z.literal('store-door'), store: id }),
	],
	{
		// The union sees the whole sensor: a bad `kind` is reported on the field itself.
		error: (issue) => {
			// Typed as union issues only, but a sensor that is not an object arrives here too.
			if ((issue.code as string) === 'invalid_type') return expected('an object')(issue);
			const kind = (issue.input as { kind?: unknown }).kind;
			return kind === undefined ? 'is required' : `must be one of ${SENSOR_KINDS.join(', ')}, not ${shown(kind)}`;
		},
	},
);

export const passwordSchema = z.strictObject(
	{
		algorithm: z.literal('scrypt', { error: expected('"scrypt"') }),
		N: positiveInteger
			.refine((n) => n >= SCRYPT_MIN_N && (n & (n - 1)) === 0, { error: (issue) => `must be a power of two ≥ ${SCRYPT_MIN_N}, not ${shown(issue.input)}`, abort: true })
			.refine((n) => n <= SCRYPT_MAX_N, { error: (issue) => `must be at most ${SCRYPT_MAX_N}, not ${shown(issue.input)}` }),
		r: positiveInteger,
		p: positiveInteger,
		salt: base64.refine((text) => byteLength(text) >= SALT_MIN_BYTES, {
			error: (issue) => `must be at least ${SALT_MIN_BYTES} bytes of base64, not ${byteLength(String(issue.input))}`,
		}),
		hash: base64.refine((text) => byteLength(text) === HASH_BYTES, {
			error: (issue) => `must be ${HASH_BYTES} bytes of base64, not ${byteLength(String(issue.input))}`,
		}),
	},
	{ error: expected('an object') },
);

export const ROLES = ['sensor', 'observer'] as const;
export const accountSchema = z.strictObject(
	{
		user: id,
		role: z.enum(ROLES, { error: expected(`one of ${ROLES.join(', ')}`) }),
		// Required for a sensor account, forbidden for an observer's: load-mall.ts says which.
		sensor: id.optional(),
		password: passwordSchema,
	},
	{ error: expected('an object') },
);

export const mallSchema = z.strictObject(
	{
		name,
		capacity: positiveInteger,
		floors: list(floorSchema, 'floors').min(1, { error: 'must list at least one floor' }),
		sensors: list(sensorSchema, 'sensors'),
		accounts: list(accountSchema, 'accounts'),
	},
	{ error: expected('a JSON object') },
);

export type MallJson = z.infer<typeof mallSchema>;

/** The demo's and tests' side file of plain passwords: `{"user": "password"}`. */
export const passwordsSchema = z.record(id, z.string({ error: expected('a string') }).min(1, { error: 'must not be empty' }), {
	error: expected('a JSON object'),
});
