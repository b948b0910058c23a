/** Where a JSON text stops being JSON, and why. */
export interface JsonSyntaxError {
  /** Offset in UTF-16 code units from the start of the text. */
  offset: number;
  message: string;
}

/** A 1-based line and column. */
export interface TextPosition {
  line: number;
  column: number;
}

class SyntaxStop extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER_PATTERN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'];
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/**
 * Finds the first syntax error of a JSON text, or undefined when it is valid JSON. Node's own
 * JSON.parse names the position of some errors only, so a file that fails to parse is scanned
 * again here to point at its line and column. The caller limits nesting depth beforehand.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let offset = 0;

  const fail = (message: string, at = offset): never => {
    throw new SyntaxStop(at, message);
  };
  const skipSpace = (): void => {
    while (offset < text.length && ' \t\n\r'.includes(text[offset]!)) offset++;
  };
  const describe = (): string =>
    offset >= text.length ? 'the text ends early' : `unexpected ${JSON.stringify(text[offset])}`;

  const parseString = (): void => {
    offset++;
    while (offset < text.length) {
      const c = text[offset]!;
      if (c === '"') {
        offset++;
        return;
      }
      if (c < ' ') fail('a control character inside a string must be escaped');
      if (c === '\\') {
        const escaped = text[offset + 1];
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(offset + 2, offset + 6))) {
            fail('\\u must be followed by four hex digits');
          }
          offset += 6;
          continue;
        }
        if (escaped === undefined || !ESCAPES.has(escaped)) fail('a bad escape in a string');
        offset += 2;
        continue;
      }
      offset++;
    }
    fail('a string is not closed');
  };

  const parseValue = (): void => {
    skipSpace();
    const c = text[offset];
    if (c === '{' || c === '[') {
      parseContainer(c === '{' ? '}' : ']', c === '{');
      return;
    }
    if (c === '"') {
      parseString();
      return;
    }

    NUMBER_PATTERN.lastIndex = offset;
    const number = NUMBER_PATTERN.exec(text);
    if (number && (c === '-' || (c !== undefined && c >= '0' && c <= '9'))) {
      offset += number[0].length;
      return;
    }
    const literal = LITERALS.find((word) => text.startsWith(word, offset));
    if (literal) {
      offset += literal.length;
      return;
    }
    fail(`${describe()} where a value should be`);
  };

  const parseContainer = (close: string, isObject: boolean): void => {
    offset++;
    skipSpace();
    if (text[offset] === close) {
      offset++;
      return;
    }
    for (;;) {
      if (isObject) {
        skipSpace();
        if (text[offset] !== '"') fail(`${describe()} where a member name in quotes should be`);
        parseString();
        skipSpace();
        if (text[offset] !== ':') fail(`${describe()} where ':' should be`);
        offset++;
      }
      parseValue();
      skipSpace();
      if (text[offset] === ',') {
        offset++;
        continue;
      }
      if (text[offset] === close) {
        offset++;
        return;
      }
      fail(`${describe()} where ',' or '${close}' should be`);
    }
  };

  try {
    skipSpace();
    if (offset >= text.length) fail('the text is empty');
    parseValue();
    skipSpace();
    if (offset < text.length) fail('unexpected text after the value');
    return undefined;
  } catch (error) {
    if (error instanceof SyntaxStop) return { offset: error.offset, message: error.message };
    throw error;
  }
}

/** The 1-based line and column of an offset in `text`. */
export function positionAt(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
