import { expect, it } from 'vitest';
import * as entry from '../index.js';

// The public entry's names, as every package snapshots them: adding or removing one is a deliberate, reviewed change.
it('exports exactly the public API', () => {
  expect(Object.keys(entry).sort()).toMatchSnapshot();
});
