import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Raw bytes per chunk: base64 makes it 960 characters, inside one 1200-byte datagram. */
export const CHUNK_BYTES = 720;

/** A JSON document compressed and cut into chunks small enough for one datagram each. */
export function chunkDocument(value: unknown): string[] {
	const bytes = deflateRawSync(Buffer.from(JSON.stringify(value), 'utf8'));
	const chunks: string[] = [];
	for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
		chunks.push(bytes.subarray(offset, offset + CHUNK_BYTES).toString('base64'));
	}
	return chunks;
}

/** Collects a document's chunks in any order, with duplicates; parses it once whole. */
export class DocumentAssembly {
	readonly #chunks: (Buffer | undefined)[];

	constructor(readonly version: number, readonly total: number) {
		this.#chunks = new Array<Buffer | undefined>(total).fill(undefined);
	}

	add(index: number, data: string): void {
		if (index < this.total) this.#chunks[index] = Buffer.from(data, 'base64');
	}

	missing(): number[] {
		const missing: number[] = [];
		this.#chunks.forEach((chunk, index) => chunk === undefined && missing.push(index));
		return missing;
	}

	/** The parsed document, or an error message if it is not valid compressed JSON. */
	result(): { ok: true; value: unknown } | { ok: false; error: string } {
		try {
			const bytes = inflateRawSync(Buffer.concat(this.#chunks.filter((chunk): chunk is Buffer => chunk !== undefined)));
			return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
		} catch (error) {
			return { ok: false, error: (error as Error).message };
		}
	}
}
