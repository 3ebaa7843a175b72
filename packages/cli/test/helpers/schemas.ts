import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';

const ajv = new Ajv({ allErrors: true, strict: true });
// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  instance: Ajv,
) => void;
addFormats(ajv);

/** Validates a --json document against schemas/<name>.schema.json; returns the errors as text ('' when valid). */
export function schemaErrors(name: 'send' | 'send-mx' | 'probe' | 'mx' | 'bench', value: unknown): string {
  const schema = JSON.parse(
    readFileSync(new URL(`../../schemas/${name}.schema.json`, import.meta.url), 'utf8'),
  ) as object;
  const validate = ajv.getSchema(`https://smtp.invalid/schemas/${name}.schema.json`) ?? ajv.compile(schema);
  return validate(value) ? '' : ajv.errorsText(validate.errors);
}
