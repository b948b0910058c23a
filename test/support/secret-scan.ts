import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The forms a leaked secret could take: as is, base64 (standard and url-safe) and hex. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    secret,
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    JSON.stringify(secret).slice(1, -1),
  ];
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...filesUnder(path));
    else files.push(path);
  }
  return files;
}

/**
 * Where any form of any of `secrets` appears in `texts` (labelled strings) or in the bytes of
 * `files`: a list of `where: secret form`, empty when nothing leaked. Byte search is done on the
 * raw file, so SQLite pages and WAL frames are covered.
 */
export function findLeaks(
  secrets: string[],
  texts: Record<string, string>,
  files: string[],
): string[] {
  const leaks: string[] = [];
  for (const secret of secrets) {
    for (const form of secretForms(secret)) {
      for (const [label, text] of Object.entries(texts)) {
        if (text.includes(form)) leaks.push(`${label}: ${form}`);
      }
      const needle = Buffer.from(form, 'utf8');
      for (const file of files) {
        if (readFileSync(file).includes(needle)) leaks.push(`${file}: ${form}`);
      }
    }
  }
  return leaks;
}
