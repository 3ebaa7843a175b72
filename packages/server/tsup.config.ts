import { defineLibrary } from '@smtp/tsup-config';

export default defineLibrary({ platform: 'node' });
