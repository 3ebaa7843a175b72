/** RFC 5802 §5.1 saslname: "," and "=" are sent as "=2C" and "=3D". */
export function encodeSaslname(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

/** Reverses `encodeSaslname`; null when "=" is followed by anything but "2C" or "3D", or on NUL. */
export function decodeSaslname(text: string): string | null {
  if (text.includes('\0') || /=(?!2C|3D)/.test(text)) return null;
  return text.replaceAll('=2C', ',').replaceAll('=3D', '=');
}
