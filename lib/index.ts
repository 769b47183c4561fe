export { Spacebox } from './store.js'
export { SpaceboxError, isSpaceboxError, type ErrorCode } from './errors.js'
export type * from './types.js'
