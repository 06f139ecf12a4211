// The few parts of blessed and blessed-contrib footfall uses (neither ships types).
declare module 'blessed' {
	interface Screen {
		lines: [number, string][][];
		codeAttr(attribute: number): string;
		append(node: unknown): void;
		render(): void;
		destroy(): void;
	}
	const blessed: { screen(options: Record<string, unknown>): Screen };
	export default blessed;
}

declare module 'blessed-contrib' {
	interface LineChart {
		setData(series: { title?: string; x: string[]; y: number[]; style?: { line?: string } }[]): void;
	}
	const contrib: { line(options: Record<string, unknown>): LineChart };
	export default contrib;
}
