import { type Benchmark, SkipBenchmark } from '../context.ts';

export const memory: Benchmark = {
  id: 'p6',
  title: 'p6-memory',
  how: '',
  async run() {
    throw new SkipBenchmark('not written yet');
  },
};
