/** Compares two byte arrays without stopping at the first difference (no timing hint at where they differ). */
export function constantTimeEqual(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index++)
    difference |= (left[index] as number) ^ (right[index] as number);
  return difference === 0;
}
