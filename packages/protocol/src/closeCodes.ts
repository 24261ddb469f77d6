/**
 * WebSocket close codes the relay uses; every refusal carries one of these
 * and a reason text. 4000–4999 are the application range (RFC 6455 7.4.2);
 * the hundreds mirror HTTP statuses.
 */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  tooLarge: 1009,
  internal: 1011,
  badFrame: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  revoked: 4410,
  rateLimited: 4429,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]
