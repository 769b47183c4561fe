/** The pieces of a streamed body, as bytes. */
export async function * bodyPieces (body: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
    for await (const piece of body) {
      if (typeof piece === 'string') yield Buffer.from(piece)
      else if (piece instanceof Uint8Array) yield piece
      else throw new TypeError('A body stream must yield bytes or strings')
    }
  } else {
    throw new TypeError('A body must be a Uint8Array, a string, a Readable or an async iterable of bytes')
  }
}
