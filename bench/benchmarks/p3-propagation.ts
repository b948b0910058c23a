import { type Benchmark, SkipBenchmark } from '../context.ts';

export const propagation: Benchmark = {
  id: 'p3',
  title: 'p3-propagation',
  how: '',
  async run() {
    throw new SkipBenchmark('not written yet');
  },
};
