/** Compare two strings in UTF-8 byte order, S3's key order (JS `<` compares UTF-16 units). */
export function compareUtf8 (a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
