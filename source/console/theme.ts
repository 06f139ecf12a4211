import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The bundled themes live in the top-level `themes/` folder. */
const THEMES = fileURLToPath(new URL('../../../themes/', import.meta.url));

const color = z.string();
const themeSchema = z.strictObject({
	name: z.string().min(1),
	/** No colour at all: levels are told by words and symbols (used when NO_COLOR is set). */
	monochrome: z.boolean().optional(),
	colors: z.strictObject({ text: color, dim: color, accent: color, border: color, focus: color, ok: color, warn: color, danger: color, inverse: color }),
});
export type Theme = z.infer<typeof themeSchema>;

export class ThemeError extends Error {}

/** A theme by name (`dark`, `light`, `high-contrast`, `mono`) or by path; `mono` whenever NO_COLOR is set. */
export async function loadTheme(nameOrPath: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Theme> {
	const name = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '' ? 'mono' : (nameOrPath ?? 'dark');
	const file = name.includes('/') || name.endsWith('.json') ? name : `${THEMES}${name}.json`;
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch {
		throw new ThemeError(`theme "${name}": no such theme (${file}); bundled: dark, light, high-contrast, mono`);
	}
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (error) {
		throw new ThemeError(`${file}: not valid JSON: ${(error as Error).message}`);
	}
	const parsed = themeSchema.safeParse(json);
	if (!parsed.success) {
		const issue = parsed.error.issues[0]!;
		throw new ThemeError(`${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
	}
	return parsed.data;
}

/** A colour for ink's `color` prop, or undefined in a monochrome theme. */
export function paint(theme: Theme, role: keyof Theme['colors']): string | undefined {
	return theme.monochrome ? undefined : theme.colors[role] || undefined;
}
