import { readFile } from 'node:fs/promises';
import { parseAddress, type Address } from '../network/address.js';
import { UsageError } from './usage-error.js';

export function addressOption(flag: string, value: string | undefined, fallback?: string): Address {
	const text = value ?? fallback;
	if (text === undefined) throw new UsageError(`--${flag} is required (HOST:PORT)`);
	const address = parseAddress(text);
	if (!address) throw new UsageError(`--${flag} ${text}: expected HOST:PORT, for example 127.0.0.1:7700`);
	return address;
}

export function numberOption(flag: string, value: string | undefined, fallback: number, { min = 0, integer = false } = {}): number {
	if (value === undefined) return fallback;
	const number = Number(value);
	if (!Number.isFinite(number) || number < min || (integer && !Number.isInteger(number))) {
		throw new UsageError(`--${flag} ${value}: expected ${integer ? 'an integer' : 'a number'} ≥ ${min}`);
	}
	return number;
}

export function requiredOption(flag: string, value: string | undefined): string {
	if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
	return value;
}

/** Reads a password file: its first line, without the line ending. */
export async function readPasswordFile(file: string): Promise<string> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		throw new UsageError(`${file}: cannot read password file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}
	const password = text.split(/\r?\n/)[0] ?? '';
	if (password === '') throw new UsageError(`${file}: the password file is empty`);
	return password;
}

/** Whether to print JSON lines instead of a console: asked for, or stdout is not a terminal. */
export function isHeadless(flag: boolean | undefined): boolean {
	return flag === true || !process.stdout.isTTY;
}
