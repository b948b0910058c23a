import { type Benchmark, SkipBenchmark } from '../context.ts';

export const bootstrap: Benchmark = {
  id: 'p5',
  title: 'p5-bootstrap',
  how: '',
  async run() {
    throw new SkipBenchmark('not written yet');
  },
};
