import { Readable, Writable } from 'node:stream';
import blessed from 'blessed';
import contrib from 'blessed-contrib';

/**
 * A blessed-contrib line chart drawn off-screen and read back as lines of ANSI text for
 * ink to show. blessed-contrib draws braille charts far better than text can, but it
 * wants a terminal of its own; given a stream that discards output it renders into its
 * cell buffer (`screen.lines`), which is all we need (~1.7 ms for a 60x12 chart; the
 * screen is made once, its first render costs ~50 ms).
 */
export class OffscreenChart {
	readonly #screen: ReturnType<typeof blessed.screen>;
	readonly #chart: ReturnType<typeof contrib.line>;

	constructor(readonly width: number, readonly height: number, color: string) {
		const output = Object.assign(new Writable({ write: (_chunk, _encoding, done) => done() }), { columns: width, rows: height, isTTY: true });
		const input = new Readable({ read() {} });
		this.#screen = blessed.screen({ output, input, terminal: 'xterm-256color', warnings: false, fullUnicode: true, autoPadding: false, forceUnicode: true });
		this.#chart = contrib.line({
			top: 0,
			left: 0,
			width,
			height,
			showLegend: false,
			xLabelPadding: 1,
			xPadding: 2,
			wholeNumbersOnly: true,
			style: { line: color, text: 'white', baseline: 'white' },
		});
		this.#screen.append(this.#chart);
	}

	/** Draws `values` (one a second, oldest first) and returns the chart's rows as ANSI strings. */
	draw(values: readonly number[]): string[] {
		const shown = values.length > 1 ? values : [0, ...values, 0].slice(0, 2);
		this.#chart.setData([{ x: shown.map((_, index) => `${index - shown.length + 1}s`), y: [...shown] }]);
		this.#screen.render();
		const rows: string[] = [];
		for (let y = 0; y < this.height; y++) {
			const cells = this.#screen.lines[y] ?? [];
			let row = '';
			let attribute = -1;
			for (let x = 0; x < this.width; x++) {
				const [cellAttribute, char] = cells[x] ?? [0, ' '];
				if (cellAttribute !== attribute) {
					row += this.#screen.codeAttr(cellAttribute);
					attribute = cellAttribute;
				}
				row += char;
			}
			rows.push(`${row}\u001B[0m`);
		}
		return rows;
	}

	destroy(): void {
		this.#screen.destroy();
	}
}
