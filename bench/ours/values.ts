/** Size of the entries the read, bootstrap and memory benchmarks use. */
export const ENTRY_BYTES = 1024;

/**
 * A config value whose JSON text is exactly `bytes` long: a model route with a padding field,
 * shaped like the entries a router reads. `seed` makes values differ from key to key.
 */
export function configValueText(seed: number, bytes = ENTRY_BYTES): string {
  const base = {
    model: `model-${seed}`,
    provider: 'openai-compatible',
    endpoint: `http://10.0.${seed % 250}.${(seed * 7) % 250}:8000/v1`,
    max_tokens: 4096,
    temperature: 0.2,
    weights: { primary: 0.9, fallback: 0.1 },
    revision: seed,
    notes: '',
  };
  const empty = JSON.stringify(base).length;
  base.notes = 'x'.repeat(Math.max(0, bytes - empty));
  return JSON.stringify(base);
}
