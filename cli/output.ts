import { styleText } from 'node:util';

/** The styles the CLI uses. */
export type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold';

/** True when colors may be written to `stream`: a TTY, and `NO_COLOR` is not set. */
export function colorsEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

/** A function that styles text, or leaves it alone when colors are off. */
export type Painter = (style: Style, text: string) => string;

/** The painter for `stream`. */
export function painterFor(stream: NodeJS.WriteStream = process.stdout): Painter {
  if (!colorsEnabled(stream)) return (_style, text) => text;
  return (style, text) => styleText(style, text);
}

/** Writes one line to standard output. */
export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a document as pretty JSON to standard output (the `--json` form of every command). */
export function printJson(document: unknown): void {
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

/** Lays out rows under a header as aligned columns. */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) =>
    Math.max(...cells.map((row) => (row[column] ?? '').length)),
  );
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  '),
    )
    .join('\n');
}
