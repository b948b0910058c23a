import { type Benchmark, SkipBenchmark } from '../context.ts';

export const fanOut: Benchmark = {
  id: 'p8',
  title: 'p8-fan-out',
  how: '',
  async run() {
    throw new SkipBenchmark('not written yet');
  },
};
