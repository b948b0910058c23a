import { type Benchmark, SkipBenchmark } from '../context.ts';

export const bytesOnTheWire: Benchmark = {
  id: 'p4',
  title: 'p4-bytes',
  how: '',
  async run() {
    throw new SkipBenchmark('not written yet');
  },
};
