import { packageConfig } from '../../tsup.config.base.js';

// One file per entry point (`.`, `./node`, `./dashboard`); what they share goes into chunks (see `splitting`).
export default packageConfig({
  entry: { index: 'src/index.ts', node: 'src/entries/node.ts', dashboard: 'src/entries/dashboard.ts' },
});
