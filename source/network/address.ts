/** Where a member receives datagrams. */
export interface Address {
	readonly host: string;
	readonly port: number;
}

export function formatAddress(address: Address): string {
	return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Parses `HOST:PORT` or `[v6]:PORT`; null with no message, callers say what was wrong where. */
export function parseAddress(text: string): Address | null {
	const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
	if (!match) return null;
	const port = Number(match[3]);
	if (port > 65535) return null;
	return { host: (match[1] ?? match[2])!, port };
}
